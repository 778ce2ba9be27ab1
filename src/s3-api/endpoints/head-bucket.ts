import type { RequestContext } from '../context.js'
import { sendEmpty } from '../response.js'

/** HeadBucket: 200 with the bucket's region. */
export async function headBucket(ctx: RequestContext): Promise<void> {
  sendEmpty(ctx.res, 200, {
    'x-amz-bucket-region': ctx.deps.cell.dc.id,
    'x-amz-access-point-alias': 'false',
  })
}
