import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type AuthResult, authenticate, authenticatePostPolicy } from '../access/index.js'
import { isDomainError, type Logger } from '../core/index.js'
import type { BucketRecord } from '../meta/index.js'
import { placementOf } from '../residency/index.js'
import { authorize } from './authorize.js'
import type { DirectoryBucket, RequestContext, S3Deps, S3Requester, S3Tenant } from './context.js'
import { answerPreflight, applyCors } from './cors-answer.js'
import { ENDPOINTS } from './endpoints/index.js'
import { checkExpectedOwner } from './expected-owner.js'
import { isIntegrityFailure, reportIntegrityFailure } from './integrity.js'
import { isKeyRefusal, reportKeyRefusal } from './key-refusal.js'
import { boundaryOf, type PostForm, readPostForm } from './multipart-form.js'
import { sendEmpty, sendError, sendXml } from './response.js'
import { addressOf, route, type S3Request } from './router.js'
import { S3Error, S3Errors } from './s3-error.js'

/** Operations answered from the directory alone, at any data center (as S3 answers GetBucketLocation). */
const DIRECTORY_ONLY = new Set(['GetBucketLocation'])

/** Operations that may name a bucket that does not exist yet. */
const CREATES_BUCKET = new Set(['CreateBucket'])

/** Whether a request is a POST Object (browser upload): routing errors are left to the normal path. */
function isPostObject(req: IncomingMessage, virtualHostSuffixes: readonly string[]): boolean {
  if (req.method !== 'POST') return false
  try {
    return route(req, { virtualHostSuffixes }).op === 'PostObject'
  } catch {
    return false
  }
}

/**
 * Reads a browser upload's form up to its file: only `multipart/form-data` is a POST Object
 * body (anything else is `PreconditionFailed`, as S3 answers).
 */
async function openPostForm(req: IncomingMessage): Promise<PostForm> {
  const boundary = boundaryOf(req.headers['content-type'])
  if (boundary === null) {
    throw S3Errors.preconditionFailed(
      'Bucket POST must be of the enclosure-type multipart/form-data',
    )
  }
  return readPostForm(req, boundary)
}

/** Request ids: a random per-process prefix and a counter, unique without a syscall per request. */
const REQUEST_ID_PREFIX = randomBytes(4).readUInt32BE(0)
let requestCounter = 0

function newRequestId(): string {
  requestCounter = (requestCounter + 1) % 0x1_0000_0000
  return `${REQUEST_ID_PREFIX.toString(16).padStart(8, '0')}${requestCounter.toString(16).padStart(8, '0')}`.toUpperCase()
}

/** A child logger made only when something is logged: most requests log nothing. */
function lazyLogger(make: () => Logger): Logger {
  let made: Logger | undefined
  return new Proxy({} as Logger, {
    get(_target, prop) {
      made ??= make()
      const value = Reflect.get(made, prop, made) as unknown
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(made)
        : value
    },
  })
}

/** Header names kept in request logs; everything else (Authorization, SSE-C keys…) never is. */
const LOGGED_HEADERS = [
  'host',
  'user-agent',
  'content-length',
  'content-type',
  'x-amz-content-sha256',
  'range',
]

function loggedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of LOGGED_HEADERS) {
    const v = req.headers[name]
    if (typeof v === 'string') out[name] = v
  }
  return out
}

/**
 * Who sends the request. Unsigned requests are anonymous: they reach the authorizer, which lets
 * them through only where a bucket policy or an ACL allows it.
 */
async function resolveRequester(
  deps: S3Deps,
  auth: AuthResult,
  key: { readonly tenantId: string } | null,
): Promise<S3Requester> {
  if (auth.kind === 'anonymous') return { kind: 'anonymous' }
  if (key === null) {
    throw new S3Error(
      'AccessDenied',
      'The AWS Access Key Id you provided does not exist in our records.',
    )
  }
  const tenant = await deps.directory.getTenant(key.tenantId)
  if (tenant === null) throw S3Errors.accessDenied()
  return { kind: 'tenant', tenant }
}

/** The requesting tenant, for operations only a signed request may make (ListBuckets, CreateBucket). */
function signedTenant(requester: S3Requester): S3Tenant {
  if (requester.kind === 'anonymous') throw S3Errors.accessDenied()
  return requester.tenant
}

/** Sends the 301 that points a client at the bucket's home data center. Never touches its bytes. */
function sendRedirect(
  ctx: { res: ServerResponse; head: boolean },
  deps: S3Deps,
  bucket: DirectoryBucket,
  requestId: string,
): void {
  const endpoint = deps.endpointOf(bucket.dcId)
  const headers: Record<string, string> = { 'x-amz-bucket-region': bucket.dcId }
  const host = endpoint === null ? '' : new URL(endpoint).host
  if (ctx.head) {
    sendEmpty(ctx.res, 301, headers)
    return
  }
  sendXml(
    ctx.res,
    301,
    'Error',
    {
      Code: 'PermanentRedirect',
      Message:
        'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
      Endpoint: host,
      Bucket: bucket.name,
      RequestId: requestId,
    },
    headers,
  )
}

/**
 * Builds the request listener of one data center's S3 endpoint: parse, authenticate, place
 * (redirect), authorize, then dispatch to exactly one endpoint handler. Errors map to S3 in one place.
 */
export function createS3Handler(deps: S3Deps): (req: IncomingMessage, res: ServerResponse) => void {
  const dcId = deps.cell.dc.id
  const regions = [dcId, 'us-east-1']
  return (req, res) => {
    const started = process.hrtime.bigint()
    const requestId = newRequestId()
    res.setHeader('x-amz-request-id', requestId)
    res.setHeader('x-amz-id-2', requestId)
    res.setHeader('server', 'Sovra')
    const head = req.method === 'HEAD'
    let op = 'Unknown'
    const log = lazyLogger(() => deps.logger.child({ requestId, dc: dcId }))
    const resource = (req.url ?? '/').split('?')[0] ?? '/'
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      deps.metrics.requests.inc({ dc: dcId, op, status: String(res.statusCode) })
      deps.metrics.duration.observe({ dc: dcId, op }, seconds)
    })
    const signed = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }
    // The key found while verifying the signature is the one whose tenant acts: looked up once.
    let key: { readonly tenantId: string; readonly secretAccessKey: string } | null = null
    const verify = (allowed: readonly string[]) =>
      authenticate(signed, {
        lookup: async (id) => {
          key = await deps.directory.lookupAccessKey(id)
          return key
        },
        regions: allowed,
        now: deps.now(),
        maxSkewMs: deps.settings.maxClockSkewMs,
      })
    const run = async (): Promise<void> => {
      // A CORS preflight is answered from the bucket's rules alone, unsigned, as S3 does.
      if (req.method === 'OPTIONS') {
        op = 'PreflightRequest'
        const answer = await answerPreflight(req, res, deps)
        if (answer !== null) sendRedirect({ res, head }, deps, answer.redirect, requestId)
        return
      }
      let auth: AuthResult
      try {
        auth = await verify(regions)
      } catch (err) {
        const home = await wrongEndpointHome(err)
        if (home === null) throw err
        sendRedirect({ res, head }, deps, home, requestId)
        return
      }
      // A browser upload carries its credentials in the form (a signed POST policy), before the file.
      let postForm: PostForm | undefined
      if (auth.kind === 'anonymous' && isPostObject(req, deps.settings.virtualHostSuffixes)) {
        op = 'PostObject'
        postForm = await openPostForm(req)
        if (postForm.fields.has('policy')) {
          auth = await authenticatePostPolicy(postForm.fields, {
            lookup: async (id) => {
              key = await deps.directory.lookupAccessKey(id)
              return key
            },
            regions,
            now: deps.now(),
            maxSkewMs: deps.settings.maxClockSkewMs,
          })
        }
      }
      const requester = await resolveRequester(deps, auth, key)
      let s3: S3Request
      try {
        s3 = route(req, { virtualHostSuffixes: deps.settings.virtualHostSuffixes })
      } catch (err) {
        // Anonymous callers learn nothing about what the server supports.
        if (requester.kind === 'anonymous') throw S3Errors.accessDenied()
        throw err
      }
      op = s3.op
      let bucket: DirectoryBucket | null = null
      if (s3.bucket !== null) {
        bucket = await deps.directory.getBucket(s3.bucket)
        if (bucket === null && !CREATES_BUCKET.has(s3.op)) throw S3Errors.noSuchBucket(s3.bucket)
        // Creating a bucket that exists is 409 wherever it lives (createBucket), not a redirect.
        if (bucket !== null && !CREATES_BUCKET.has(s3.op)) {
          const placement = placementOf(bucket.dcId, dcId, {
            directoryOnly: DIRECTORY_ONLY.has(s3.op),
          })
          if (placement.kind === 'redirect') {
            sendRedirect({ res, head }, deps, bucket, requestId)
            return
          }
          await applyCors(req, res, deps, bucket.name)
        }
      }
      const authorized =
        bucket === null || s3.op === 'CreateBucket'
          ? { tenant: signedTenant(requester), record: null }
          : await authorizeRequest(bucket, s3, requester, auth)
      const { tenant } = authorized
      checkExpectedOwner(req.headers, s3.op, tenant)
      const ctx: RequestContext = {
        req,
        res,
        deps,
        requestId,
        log: lazyLogger(() =>
          deps.logger.child({
            requestId,
            dc: dcId,
            tenant: requester.kind === 'tenant' ? requester.tenant.id : 'anonymous',
            op,
          }),
        ),
        s3,
        auth,
        tenant,
        requester,
        bucket,
        ...(authorized.record === null ? {} : { bucketRecord: authorized.record }),
        ...(postForm === undefined ? {} : { postForm }),
      }
      try {
        await ENDPOINTS[s3.op](ctx)
      } catch (err) {
        if (isIntegrityFailure(err)) await reportIntegrityFailure(ctx, err)
        else if (isKeyRefusal(err) && ctx.s3.key !== null && ctx.s3.key !== undefined) {
          await reportKeyRefusal(ctx, err)
        }
        throw err
      }
    }
    /**
     * Authorization, in one place: the bucket's owner, and whether the requester may perform
     * the operation (bucket policy, ACLs, PublicAccessBlock). Returns the owner, and the
     * bucket's record when it lives in this cell.
     */
    const authorizeRequest = async (
      bucket: DirectoryBucket,
      s3: S3Request,
      requester: S3Requester,
      auth: AuthResult,
    ): Promise<{ tenant: S3Tenant; record: BucketRecord | null }> => {
      const owner = await deps.directory.getTenant(bucket.tenantId)
      if (owner === null) throw S3Errors.accessDenied()
      const isOwner = requester.kind === 'tenant' && requester.tenant.id === owner.id
      // Answered from the directory at any data center: this cell has no record of the bucket.
      if (bucket.dcId !== dcId) {
        if (!isOwner) throw S3Errors.accessDenied()
        return { tenant: owner, record: null }
      }
      const record = await deps.cell.meta.getBucket(bucket.name)
      if (record === null) throw S3Errors.noSuchBucket(bucket.name)
      await authorize({ deps, req, auth, requester, owner, record, query: s3.query }, s3.op, s3.key)
      return { tenant: owner, record }
    }
    /**
     * A request validly signed for its bucket's home region but sent to this endpoint (what a
     * client does after following a redirect without changing endpoints) gets the redirect
     * again, naming the right endpoint, rather than a puzzling region error.
     */
    const wrongEndpointHome = async (err: unknown): Promise<DirectoryBucket | null> => {
      if (!isDomainError(err, 'sigv4') || err.details.region === undefined) return null
      try {
        const { bucket: name } = addressOf(req, {
          virtualHostSuffixes: deps.settings.virtualHostSuffixes,
        })
        const bucket = name === null ? null : await deps.directory.getBucket(name)
        if (bucket === null || bucket.dcId === dcId) return null
        await verify([bucket.dcId])
        return bucket
      } catch {
        return null
      }
    }
    run().catch((err: unknown) => {
      const unread = !req.complete
      if (unread && !res.headersSent) res.setHeader('connection', 'close')
      const wire = sendError(res, err, { requestId, resource, head })
      if (wire.internal) log.error({ err, op, headers: loggedHeaders(req) }, 'S3 request failed')
      else log.info({ code: wire.code, op, message: wire.message }, 'S3 request refused')
      // A body we did not read would otherwise be parsed as the next request.
      if (unread) req.resume()
    })
  }
}
