import type { RequestContext } from '../context.js'
import { renderXml } from '../xml/render.js'

/**
 * GetBucketLocation: the bucket's home data center id (empty for us-east-1, as S3 answers),
 * from the directory, at any endpoint.
 */
export async function getBucketLocation(ctx: RequestContext): Promise<void> {
  const id = ctx.bucket?.dcId ?? ctx.deps.cell.dc.id
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
