import type { ServerResponse } from 'node:http'
import { toS3Error } from './errors.js'
import { renderXml, type XmlValue } from './xml/render.js'

/** Sends an XML document with its length. */
export function sendXml(
  res: ServerResponse,
  status: number,
  root: string,
  body: { readonly [name: string]: XmlValue },
  headers: Record<string, string> = {},
): void {
  const text = renderXml(root, body, root !== 'Error')
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** Sends an empty response. */
export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'content-length': '0' })
  res.end()
}

/**
 * Sends the S3 XML error for `err` (HEAD responses carry no body). Returns the wire error so the
 * caller can log internals.
 */
export function sendError(
  res: ServerResponse,
  err: unknown,
  options: { readonly requestId: string; readonly resource: string; readonly head: boolean },
): ReturnType<typeof toS3Error> {
  const wire = toS3Error(err)
  if (res.headersSent) {
    res.destroy()
    return wire
  }
  const headers: Record<string, string> = {}
  if (wire.status === 503) headers['retry-after'] = '1'
  if (wire.details.region !== undefined) headers['x-amz-bucket-region'] = wire.details.region
  // A delete marker answers 404 (current version) or 405 (named version) with these headers.
  if (wire.details.deleteMarker === 'true') headers['x-amz-delete-marker'] = 'true'
  if (wire.details.versionId !== undefined) headers['x-amz-version-id'] = wire.details.versionId
  if (wire.details.lastModified !== undefined) headers['last-modified'] = wire.details.lastModified
  const extra: Record<string, string> = {}
  for (const [k, v] of Object.entries(wire.details)) if (/^[A-Z]/.test(k)) extra[k] = v
  if (wire.details.region !== undefined) extra.Region = wire.details.region
  // Domain errors name the offending header in lower camel case; S3 shows it as ArgumentName.
  if (wire.details.argumentName !== undefined) extra.ArgumentName = wire.details.argumentName
  if (wire.details.argumentValue !== undefined) extra.ArgumentValue = wire.details.argumentValue
  if (options.head) {
    sendEmpty(res, wire.status, headers)
    return wire
  }
  sendXml(
    res,
    wire.status,
    'Error',
    {
      Code: wire.code,
      Message: wire.message,
      ...extra,
      Resource: options.resource,
      RequestId: options.requestId,
    },
    headers,
  )
  return wire
}
