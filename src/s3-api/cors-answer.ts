import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DirectoryBucket, S3Deps } from './context.js'
import { corsForbidden, corsResponseHeaders, matchCorsRule, requestedHeaders } from './cors.js'
import { sendEmpty } from './response.js'
import { addressOf } from './router.js'
import { S3Error } from './s3-error.js'

const NOT_ALLOWED =
  "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."

/**
 * Answers a preflight `OPTIONS` request. Like S3 it needs no signature (browsers send none):
 * `Origin` is required (`400 BadRequest`); a bucket that does not exist, has no CORS rules, or
 * whose rules do not allow the origin, `Access-Control-Request-Method` and
 * `Access-Control-Request-Headers` gets `403 AccessForbidden`; a match gets `200` with the
 * rule's `Access-Control-*` headers. A bucket of another data center is answered with its
 * redirect (the caller sends it): no data center reads another's configuration.
 */
export async function answerPreflight(
  req: IncomingMessage,
  res: ServerResponse,
  deps: S3Deps,
): Promise<{ readonly redirect: DirectoryBucket } | null> {
  const origin = req.headers.origin
  if (origin === undefined) {
    throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.')
  }
  const askedMethod = req.headers['access-control-request-method']
  const method = typeof askedMethod === 'string' ? askedMethod : 'OPTIONS'
  const { bucket: name, key } = addressOf(req, {
    virtualHostSuffixes: deps.settings.virtualHostSuffixes,
  })
  const bucket = name === null ? null : await deps.directory.getBucket(name)
  if (bucket === null) throw corsForbidden('Bucket not found', method, 'BUCKET')
  if (bucket.dcId !== deps.cell.dc.id) return { redirect: bucket }
  const rules = (await deps.cell.meta.getBucket(bucket.name))?.cors ?? null
  if (rules === null || rules.length === 0) {
    throw corsForbidden('CORS is not enabled for this bucket.', method, 'BUCKET')
  }
  const ask = {
    origin,
    method,
    headers: requestedHeaders(req.headers['access-control-request-headers']),
  }
  const rule = matchCorsRule(rules, ask)
  if (rule === null) throw corsForbidden(NOT_ALLOWED, method, key === null ? 'BUCKET' : 'OBJECT')
  sendEmpty(res, 200, corsResponseHeaders(rule, ask))
  return null
}

/**
 * Adds the `Access-Control-*` headers to the response of a request that carries an `Origin`
 * allowed by one of the bucket's CORS rules for its method; otherwise adds nothing (as S3 does:
 * the browser then refuses the response). Requests without `Origin` cost nothing.
 */
export async function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  deps: S3Deps,
  bucket: string,
): Promise<void> {
  const origin = req.headers.origin
  if (origin === undefined) return
  const rules = (await deps.cell.meta.getBucket(bucket))?.cors ?? null
  if (rules === null) return
  const ask = { origin, method: (req.method ?? 'GET').toUpperCase(), headers: [] }
  const rule = matchCorsRule(rules, ask)
  if (rule === null) return
  for (const [name, value] of Object.entries(corsResponseHeaders(rule, ask))) {
    res.setHeader(name, value)
  }
}
