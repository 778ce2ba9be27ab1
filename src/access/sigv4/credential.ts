/** The parts of `AKID/yyyymmdd/region/service/aws4_request`. */
export interface Credential {
  readonly accessKeyId: string
  readonly date: string
  readonly region: string
  readonly service: string
  readonly terminal: string
}

/** Split a credential value; undefined when it does not have five non-empty parts. */
export function parseCredential(value: string): Credential | undefined {
  // The access key id is everything before the last four parts, so an id with '/' still parses.
  const parts = value.split('/')
  if (parts.length < 5) return undefined
  const terminal = parts.pop() ?? ''
  const service = parts.pop() ?? ''
  const region = parts.pop() ?? ''
  const date = parts.pop() ?? ''
  const accessKeyId = parts.join('/')
  if (accessKeyId === '' || region === '' || service === '' || !/^\d{8}$/.test(date)) {
    return undefined
  }
  return { accessKeyId, date, region, service, terminal }
}
