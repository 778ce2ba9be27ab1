import type { CorsRule } from '../meta/index.js'
import { S3Error, S3Errors } from './s3-error.js'
import { childList, childText, parseXml, type XmlNode } from './xml/parse.js'
import type { XmlValue } from './xml/render.js'

/** Methods a CORS rule may allow (AWS: anything else is `InvalidRequest`). */
const CORS_METHODS = new Set(['GET', 'PUT', 'HEAD', 'POST', 'DELETE'])

/** Most rules in one configuration (AWS). */
const MAX_RULES = 100

/** The `Vary` header S3 sends with every CORS answer. */
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'

function texts(node: XmlNode, name: string): string[] {
  return childList(node, name).map((n) => {
    if (typeof n !== 'string') throw S3Errors.malformedXml()
    return n
  })
}

function oneWildcard(values: readonly string[], element: string): void {
  for (const v of values) {
    if (v.indexOf('*') !== v.lastIndexOf('*')) {
      throw new S3Error('InvalidRequest', `${element} "${v}" can not have more than one wildcard.`)
    }
  }
}

/**
 * Parses and checks a `CORSConfiguration` document: 1–100 `CORSRule`s, each with at least one
 * `AllowedOrigin` and `AllowedMethod` (`MalformedXML`), methods among GET, PUT, HEAD, POST and
 * DELETE and at most one `*` per origin or header (`InvalidRequest`), a whole `MaxAgeSeconds`.
 */
export function parseCorsXml(body: Buffer): CorsRule[] {
  const root = parseXml(body).CORSConfiguration
  if (root === undefined || typeof root === 'string') throw S3Errors.malformedXml()
  const rules = childList(root, 'CORSRule')
  if (rules.length === 0 || rules.length > MAX_RULES) throw S3Errors.malformedXml()
  return rules.map((rule) => {
    if (typeof rule === 'string') throw S3Errors.malformedXml()
    const allowedOrigins = texts(rule, 'AllowedOrigin')
    const allowedMethods = texts(rule, 'AllowedMethod')
    if (allowedOrigins.length === 0 || allowedMethods.length === 0) throw S3Errors.malformedXml()
    for (const m of allowedMethods) {
      if (!CORS_METHODS.has(m)) {
        throw new S3Error(
          'InvalidRequest',
          `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`,
        )
      }
    }
    const allowedHeaders = texts(rule, 'AllowedHeader')
    oneWildcard(allowedOrigins, 'AllowedOrigin')
    oneWildcard(allowedHeaders, 'AllowedHeader')
    const maxAge = childText(rule, 'MaxAgeSeconds')
    if (maxAge !== undefined && !/^\d{1,10}$/.test(maxAge)) throw S3Errors.malformedXml()
    const id = childText(rule, 'ID')
    if (id !== undefined && id.length > 255) throw S3Errors.malformedXml()
    return {
      id: id ?? null,
      allowedOrigins,
      allowedMethods,
      allowedHeaders,
      exposeHeaders: texts(rule, 'ExposeHeader'),
      maxAgeSeconds: maxAge === undefined ? null : Number(maxAge),
    }
  })
}

/** A `CORSConfiguration` response body (GetBucketCors), elements in AWS's order. */
export function corsXml(rules: readonly CorsRule[]): { readonly [name: string]: XmlValue } {
  return {
    CORSRule: rules.map((r) => ({
      ID: r.id ?? undefined,
      AllowedHeader: r.allowedHeaders,
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: r.exposeHeaders,
      MaxAgeSeconds: r.maxAgeSeconds ?? undefined,
    })),
  }
}

/** Whether `value` matches `pattern`, whose one optional `*` stands for any run of characters. */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*')
  if (star === -1) return pattern === value
  const head = pattern.slice(0, star)
  const tail = pattern.slice(star + 1)
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail)
}

/** What a CORS request asks for: its origin, the method and (preflight) the headers it will send. */
export interface CorsAsk {
  readonly origin: string
  readonly method: string
  readonly headers: readonly string[]
}

/**
 * The first rule that allows `ask`, as S3 evaluates them: the origin matches an `AllowedOrigin`,
 * the method is an `AllowedMethod`, and every requested header matches an `AllowedHeader`
 * (case-insensitively). Null when none does.
 */
export function matchCorsRule(rules: readonly CorsRule[], ask: CorsAsk): CorsRule | null {
  for (const rule of rules) {
    if (!rule.allowedMethods.includes(ask.method)) continue
    if (!rule.allowedOrigins.some((o) => wildcardMatch(o, ask.origin))) continue
    const allowed = rule.allowedHeaders.map((h) => h.toLowerCase())
    if (!ask.headers.every((h) => allowed.some((a) => wildcardMatch(a, h)))) continue
    return rule
  }
  return null
}

/** The lower-cased names of `Access-Control-Request-Headers`. */
export function requestedHeaders(value: string | undefined): string[] {
  if (value === undefined) return []
  return value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '')
}

/**
 * The `Access-Control-*` headers S3 answers for a matched rule: the origin (or `*` for a rule
 * that allows every origin, then without credentials), the rule's methods, expose headers and
 * max age, the requested headers (preflight), and `Vary`.
 */
export function corsResponseHeaders(rule: CorsRule, ask: CorsAsk): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*')
  const headers: Record<string, string> = {
    'access-control-allow-origin': anyOrigin ? '*' : ask.origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    vary: VARY,
  }
  if (!anyOrigin) headers['access-control-allow-credentials'] = 'true'
  if (ask.headers.length > 0) headers['access-control-allow-headers'] = ask.headers.join(', ')
  if (rule.exposeHeaders.length > 0) {
    headers['access-control-expose-headers'] = rule.exposeHeaders.join(', ')
  }
  if (rule.maxAgeSeconds !== null) {
    headers['access-control-max-age'] = String(rule.maxAgeSeconds)
  }
  return headers
}

/** The 403 a refused preflight gets, as S3 words it (`AccessForbidden`, `CORSResponse: …`). */
export function corsForbidden(
  reason: string,
  method: string,
  resourceType: 'BUCKET' | 'OBJECT',
): S3Error {
  return new S3Error('AccessForbidden', `CORSResponse: ${reason}`, {
    Method: method,
    ResourceType: resourceType,
  })
}
