const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/** Milliseconds since the epoch of an ISO 8601 basic timestamp (`20130524T000000Z`), or undefined. */
export function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE.exec(value)
  if (m === null) return undefined
  const ms = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
  )
  // Reject impossible dates that Date.UTC would roll over (e.g. 20130231).
  return formatAmzDate(ms) === value ? ms : undefined
}

/** Format milliseconds since the epoch as an ISO 8601 basic timestamp (`20130524T000000Z`). */
export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}
