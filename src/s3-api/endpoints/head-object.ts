import type { RequestContext } from '../context.js'
import { readObject } from './read-object.js'

/** HeadObject: GetObject's headers without the body. */
export async function headObject(ctx: RequestContext): Promise<void> {
  await readObject(ctx, { body: false })
}
