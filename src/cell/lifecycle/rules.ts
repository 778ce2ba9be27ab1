import type {
  LifecycleFilter,
  LifecycleRule,
  LifecycleTag,
  MultipartUploadRecord,
} from '../../meta/index.js'

/**
 * Lifecycle rule evaluation, pure: what a rule does to one object, version or upload at a given
 * time. The worker (lifecycle-worker.ts) supplies the facts and applies the answer.
 *
 * Times follow AWS: an action due "N days after" a time `t` is due at `t + N days`, rounded up to
 * the next midnight UTC (`ceil` to a multiple of `dayMs` since the epoch). `dayMs` is a real day
 * (86,400,000) in production; tests shrink it so that a "day" passes in a fraction of a second,
 * and the rounding then goes to the next accelerated "midnight". `Date` rules name a real
 * instant (midnight UTC of a calendar day) and are not scaled.
 */

/** What a filter is checked against: the object's key, size and tags. */
export interface FilterSubject {
  readonly key: string
  readonly size: number
  readonly tags: readonly LifecycleTag[]
}

/** Whether `subject` passes every predicate of `filter` (an empty filter passes everything). */
export function matchesFilter(filter: LifecycleFilter, subject: FilterSubject): boolean {
  if (filter.prefix !== null && !subject.key.startsWith(filter.prefix)) return false
  for (const want of filter.tags) {
    if (!subject.tags.some((t) => t.key === want.key && t.value === want.value)) return false
  }
  if (filter.objectSizeGreaterThan !== null && !(subject.size > filter.objectSizeGreaterThan)) {
    return false
  }
  if (filter.objectSizeLessThan !== null && !(subject.size < filter.objectSizeLessThan)) {
    return false
  }
  return true
}

/** When an action due `days` after `since` takes effect: rounded up to the next midnight. */
export function dueAt(since: number, days: number, dayMs: number): number {
  return Math.ceil((since + days * dayMs) / dayMs) * dayMs
}

/** One current object version as the rules see it. */
export interface CurrentObject extends FilterSubject {
  /** Milliseconds since the epoch. */
  readonly lastModified: number
}

/**
 * The first enabled rule whose `Expiration` (`Days` or `Date`) has expired `object` at `now`, or
 * null. Expiring a current version deletes it in an unversioned bucket (and, once versioning
 * exists, writes a delete marker in a versioned one).
 */
export function expiringRule(
  rules: readonly LifecycleRule[],
  object: CurrentObject,
  now: number,
  dayMs: number,
): LifecycleRule | null {
  for (const rule of rules) {
    if (rule.status !== 'Enabled' || rule.expiration === null) continue
    const { days, date } = rule.expiration
    if (days === null && date === null) continue
    if (!matchesFilter(rule.filter, object)) continue
    if (days !== null && now >= dueAt(object.lastModified, days, dayMs)) return rule
    if (date !== null && now >= Date.parse(date)) return rule
  }
  return null
}

/**
 * When `object` (a current version) is due to expire and by which rule: of every enabled rule
 * whose `Expiration` (`Days` or `Date`) matches it, the earliest date; on a tie, the first rule.
 * Null when no rule expires it. What S3 reports in `x-amz-expiration`.
 */
export function scheduledExpiration(
  rules: readonly LifecycleRule[],
  object: CurrentObject,
  dayMs: number,
): { readonly at: number; readonly ruleId: string } | null {
  let best: { at: number; ruleId: string } | null = null
  for (const rule of rules) {
    if (rule.status !== 'Enabled' || rule.expiration === null) continue
    const { days, date } = rule.expiration
    if (!matchesFilter(rule.filter, object)) continue
    const at =
      days !== null
        ? dueAt(object.lastModified, days, dayMs)
        : date !== null
          ? Date.parse(date)
          : null
    if (at === null || Number.isNaN(at)) continue
    if (best === null || at < best.at) best = { at, ruleId: rule.id }
  }
  return best
}

/**
 * The first enabled rule whose `AbortIncompleteMultipartUpload` is due for `upload` at `now`, or
 * null. The upload is matched by its key (and the prefix of the filter); AWS refuses tag and
 * size filters on such rules, so there is nothing else to match.
 */
export function abortingRule(
  rules: readonly LifecycleRule[],
  upload: Pick<MultipartUploadRecord, 'key' | 'initiated'>,
  now: number,
  dayMs: number,
): LifecycleRule | null {
  for (const rule of rules) {
    const days = rule.abortIncompleteMultipartUploadDays
    if (rule.status !== 'Enabled' || days === null) continue
    if (rule.filter.prefix !== null && !upload.key.startsWith(rule.filter.prefix)) continue
    if (now >= dueAt(upload.initiated, days, dayMs)) return rule
  }
  return null
}

/** One version of a key in a versioned bucket, as the version rules see it. */
export interface VersionFacts extends FilterSubject {
  readonly isLatest: boolean
  readonly isDeleteMarker: boolean
  /** When a newer version replaced this one (ms since the epoch); null for the latest. */
  readonly noncurrentSince: number | null
  /** How many noncurrent versions of the key are newer than this one. */
  readonly newerNoncurrentVersions: number
  /** Noncurrent versions the key has in all (for a latest delete marker: zero means expired). */
  readonly noncurrentVersionCount: number
  /** Milliseconds since the epoch. */
  readonly lastModified: number
}

/** What the rules do to one version. */
export type VersionAction =
  /** Expire the current version: delete marker in a versioned bucket, delete in an unversioned one. */
  | { readonly kind: 'expire-current'; readonly rule: LifecycleRule }
  /** Permanently delete a noncurrent version (`NoncurrentVersionExpiration`). */
  | { readonly kind: 'delete-noncurrent'; readonly rule: LifecycleRule }
  /** Remove a latest delete marker that has no noncurrent versions (`ExpiredObjectDeleteMarker`). */
  | { readonly kind: 'remove-delete-marker'; readonly rule: LifecycleRule }

/**
 * What the enabled rules do to one version at `now`, or null. Evaluated for every version of a
 * versioned bucket once versioning exists; today the worker applies only the current-version
 * part (`expiringRule`), since every object is its one current version.
 *
 * - latest, not a delete marker: `Expiration` `Days`/`Date` → `expire-current`;
 * - latest delete marker with no noncurrent versions: `ExpiredObjectDeleteMarker: true` →
 *   `remove-delete-marker`;
 * - noncurrent: `NoncurrentVersionExpiration` due `NoncurrentDays` after it became noncurrent,
 *   and more than `NewerNoncurrentVersions` newer noncurrent versions exist →
 *   `delete-noncurrent`.
 */
export function versionAction(
  rules: readonly LifecycleRule[],
  version: VersionFacts,
  now: number,
  dayMs: number,
): VersionAction | null {
  for (const rule of rules) {
    if (rule.status !== 'Enabled' || !matchesFilter(rule.filter, version)) continue
    if (version.isLatest) {
      if (version.isDeleteMarker) {
        if (rule.expiration?.expiredObjectDeleteMarker === true) {
          if (version.noncurrentVersionCount === 0) return { kind: 'remove-delete-marker', rule }
        }
        continue
      }
      if (expiringRule([rule], version, now, dayMs) !== null) {
        return { kind: 'expire-current', rule }
      }
      continue
    }
    const nve = rule.noncurrentVersionExpiration
    if (nve === null || version.noncurrentSince === null) continue
    const keep = nve.newerNoncurrentVersions ?? 0
    if (version.newerNoncurrentVersions < keep) continue
    if (now >= dueAt(version.noncurrentSince, nve.noncurrentDays, dayMs)) {
      return { kind: 'delete-noncurrent', rule }
    }
  }
  return null
}

/** Whether any enabled rule can expire current objects (`Days` or `Date`). */
export function expiresObjects(rules: readonly LifecycleRule[]): boolean {
  return rules.some(
    (r) => r.status === 'Enabled' && (r.expiration?.days != null || r.expiration?.date != null),
  )
}

/** Whether any enabled rule acts on noncurrent versions or expired delete markers. */
export function expiresVersions(rules: readonly LifecycleRule[]): boolean {
  return rules.some(
    (r) =>
      r.status === 'Enabled' &&
      (r.noncurrentVersionExpiration !== null || r.expiration?.expiredObjectDeleteMarker === true),
  )
}

/** Whether any enabled rule aborts incomplete multipart uploads. */
export function abortsUploads(rules: readonly LifecycleRule[]): boolean {
  return rules.some((r) => r.status === 'Enabled' && r.abortIncompleteMultipartUploadDays !== null)
}

/**
 * The prefix every expiring rule's filter requires (their longest common prefix), so a pass
 * scans only that part of the bucket; empty when one of them has no prefix.
 */
export function scanPrefix(rules: readonly LifecycleRule[]): string {
  const prefixes = rules
    .filter(
      (r) => r.status === 'Enabled' && (r.expiration?.days != null || r.expiration?.date != null),
    )
    .map((r) => r.filter.prefix ?? '')
  if (prefixes.length === 0) return ''
  let common = prefixes[0] as string
  for (const p of prefixes.slice(1)) {
    let i = 0
    while (i < common.length && i < p.length && common[i] === p[i]) i++
    common = common.slice(0, i)
  }
  // Never cut a surrogate pair in half: the scan compares UTF-8 bytes.
  const last = common.charCodeAt(common.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? common.slice(0, -1) : common
}
