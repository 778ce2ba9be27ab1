import type { RequestContext } from '../context.js'
import { renderXml } from '../xml/render.js'

/** GetBucketLocation: the bucket's data center id (empty for us-east-1, as S3 answers). */
export async function getBucketLocation(ctx: RequestContext): Promise<void> {
  const id = ctx.deps.cell.dc.id
  const xml = renderXml('LocationConstraint', {}).replace(
    '</LocationConstraint>',
    `${id === 'us-east-1' ? '' : id}</LocationConstraint>`,
  )
  ctx.res.writeHead(200, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(xml),
  })
  ctx.res.end(xml)
}
