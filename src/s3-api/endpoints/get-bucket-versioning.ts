import type { RequestContext } from '../context.js'
import { sendXml } from '../response.js'

/** GetBucketVersioning: versioning has never been enabled, so the configuration is empty. */
export async function getBucketVersioning(ctx: RequestContext): Promise<void> {
  sendXml(ctx.res, 200, 'VersioningConfiguration', {})
}
