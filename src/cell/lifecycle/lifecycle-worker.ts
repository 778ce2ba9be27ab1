import type { BlobStore } from '../../blob/index.js'
import { isDomainError, type Logger } from '../../core/index.js'
import { commit, encodeEvent, LEDGER_EVENT_SCHEMA, type LedgerEvent } from '../../ledger/index.js'
import {
  type LifecycleObjectFacts,
  type LifecycleRule,
  type MetaStore,
  type MultipartUploadRecord,
  newVersionId,
  type VersioningStatus,
} from '../../meta/index.js'
import {
  abortingRule,
  abortsUploads,
  expiresObjects,
  expiresVersions,
  expiringRule,
  scanPrefix,
  type VersionFacts,
  versionAction,
} from './rules.js'

/**
 * The lifecycle worker of one cell: every `intervalMs` it makes a pass over the buckets that
 * have a lifecycle configuration and applies their enabled rules.
 *
 * - Objects: pages through the bucket's current objects (`scanLifecycleObjects`, `batchSize` at a
 *   time, only under the rules' common prefix, never the whole bucket in memory) and expires
 *   those an `Expiration` (`Days` or `Date`) has reached (rules.ts). An expiry is the same
 *   metadata change as a user's DeleteObject: `MetaStore.deleteObject` with an `object.delete`
 *   ledger event in the same transaction (actor `{"kind":"system","component":"lifecycle"}`,
 *   `reason: "lifecycle"`), then the blobs no longer referenced are removed. The delete names the
 *   ETag and time it read (`expect`), so an object overwritten meanwhile is left alone. In a
 *   versioned (or suspended) bucket the expiry writes a delete marker instead, as S3 does.
 * - Multipart uploads: pages through the bucket's uploads and aborts those older than an
 *   `AbortIncompleteMultipartUpload` allows, as AbortMultipartUpload does.
 * - Noncurrent versions and delete markers: the rules are parsed, stored and evaluated
 *   (`versionAction` in rules.ts) and applied by a pass over ListObjectVersions in versioned
 *   buckets: a noncurrent version is removed for good, a lone latest delete marker removed; a
 *   version under Object Lock is left alone.
 *
 * Passes never overlap; `close()` stops the current pass between two objects and waits for it.
 * A bucket whose rules fail (a store error) is logged at `error` and the pass goes on to the next.
 * A full ledger backlog (the same pushback that answers `SlowDown` to requests) ends the pass
 * early; the next one picks up what is left.
 */

/** How the worker runs (`lifecycle` in the configuration). */
export interface LifecycleSettings {
  readonly enabled: boolean
  readonly intervalMs: number
  /** The length of a lifecycle day: 86,400,000 in production, less in tests. */
  readonly dayMs: number
  readonly batchSize: number
}

/** What one cell's worker needs. */
export interface LifecycleDeps {
  readonly dc: string
  readonly meta: MetaStore
  readonly blob: Pick<BlobStore, 'remove'>
  /** The cell's log: its backlog bound (pushback). */
  readonly ledger: { readonly maxPending: number }
  /** The tenant's ledger secret, for the commitments of expiry events; none are written without. */
  readonly ledgerSecretOf?: (tenantId: string) => Promise<Buffer>
  readonly settings: LifecycleSettings
  readonly logger: Logger
  /** The clock (ms since the epoch); injectable for tests. */
  readonly now?: () => number
}

/** What one pass did (for logs and tests). */
export interface LifecyclePass {
  readonly buckets: number
  readonly expired: number
  readonly aborted: number
  /** Objects or uploads that changed between being read and being expired, left alone. */
  readonly skipped: number
}

/** The ledger component name of lifecycle actions. */
export const LIFECYCLE_COMPONENT = 'lifecycle'

/** Buckets read per page of `listLifecycleBuckets`. */
const BUCKET_PAGE = 100

interface Counts {
  buckets: number
  expired: number
  aborted: number
  skipped: number
}

/** Why a pass stopped early. */
class PassStopped extends Error {}

export class LifecycleWorker {
  readonly #deps: LifecycleDeps
  readonly #now: () => number
  #timer: NodeJS.Timeout | undefined
  #running: Promise<LifecyclePass> | undefined
  #closed = false

  constructor(deps: LifecycleDeps) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
  }

  /** The length of a lifecycle "day" in ms (a real day but in tests). */
  get dayMs(): number {
    return this.#deps.settings.dayMs
  }

  /** Schedules passes every `intervalMs` (the first one after one interval); no-op when disabled. */
  start(): void {
    if (!this.#deps.settings.enabled || this.#closed) return
    this.#schedule()
  }

  /** Runs one pass now (or joins the one under way) and resolves with what it did. */
  runOnce(): Promise<LifecyclePass> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  /** Stops scheduling, ends the pass under way between two objects, and waits for it. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#running?.catch(() => undefined)
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.runOnce()
        .catch((err: unknown) => this.#deps.logger.error({ err }, 'Lifecycle pass failed'))
        .finally(() => {
          if (!this.#closed) this.#schedule()
        })
    }, this.#deps.settings.intervalMs)
    this.#timer.unref()
  }

  async #pass(): Promise<LifecyclePass> {
    const counts: Counts = { buckets: 0, expired: 0, aborted: 0, skipped: 0 }
    let after = ''
    try {
      for (;;) {
        const names = await this.#deps.meta.listLifecycleBuckets({ after, limit: BUCKET_PAGE })
        for (const bucket of names) {
          this.#checkOpen()
          await this.#bucket(bucket, counts)
        }
        if (names.length < BUCKET_PAGE) break
        after = names[names.length - 1] as string
      }
    } catch (err) {
      if (!(err instanceof PassStopped)) throw err
    }
    return { ...counts }
  }

  async #bucket(bucket: string, counts: Counts): Promise<void> {
    const meta = this.#deps.meta
    const [config, record] = await Promise.all([
      meta.getBucketLifecycle(bucket),
      meta.getBucket(bucket),
    ])
    if (config === null || record === null) return
    const rules = config.rules.filter((r) => r.status === 'Enabled')
    if (rules.length === 0) return
    counts.buckets++
    const before = { ...counts }
    try {
      if (expiresObjects(rules)) {
        await this.#expireObjects(bucket, record.tenantId, record.versioning ?? null, rules, counts)
      }
      if (expiresVersions(rules) && (record.versioning ?? null) !== null) {
        await this.#expireVersions(bucket, record.tenantId, rules, counts)
      }
      if (abortsUploads(rules)) await this.#abortUploads(bucket, rules, counts)
    } catch (err) {
      if (err instanceof PassStopped || this.#closed) throw err
      // The bucket went away during the pass: nothing left to do there. Any other failure is
      // logged and the pass goes on: one bucket must not stop the others' rules.
      if (!(isDomainError(err, 'meta') && err.code === 'NoSuchBucket')) {
        this.#deps.logger.error({ err, bucket }, 'Lifecycle rules of a bucket failed')
      }
    } finally {
      const expired = counts.expired - before.expired
      const aborted = counts.aborted - before.aborted
      if (expired + aborted > 0) {
        this.#deps.logger.info(
          { bucket, expired, aborted, skipped: counts.skipped - before.skipped },
          'Lifecycle rules applied',
        )
      }
    }
  }

  async #expireObjects(
    bucket: string,
    tenantId: string,
    versioning: VersioningStatus | null,
    rules: readonly LifecycleRule[],
    counts: Counts,
  ): Promise<void> {
    const { meta, settings } = this.#deps
    const prefix = scanPrefix(rules)
    let after: string | null = null
    for (;;) {
      this.#checkOpen()
      const page = await meta.scanLifecycleObjects(bucket, {
        prefix,
        after,
        limit: settings.batchSize,
      })
      const now = this.#now()
      const due = page.filter((o) => expiringRule(rules, o, now, settings.dayMs) !== null)
      this.#checkBacklog(bucket, due.length)
      // One page's expiries share the store's group commit (one transaction, one fsync).
      const results = await Promise.all(
        due.map((o) => this.#expire(bucket, tenantId, versioning, o)),
      )
      for (const expired of results) {
        if (expired) counts.expired++
        else counts.skipped++
      }
      if (page.length < settings.batchSize) return
      after = (page[page.length - 1] as LifecycleObjectFacts).key
    }
  }

  /** Deletes one expired object as DeleteObject does; false if it changed since it was read. */
  async #expire(
    bucket: string,
    tenantId: string,
    versioning: VersioningStatus | null,
    object: LifecycleObjectFacts,
  ): Promise<boolean> {
    const { meta, blob, logger } = this.#deps
    // In a versioned bucket an expiry keeps every version and writes a delete marker, as S3 does
    // (a suspended bucket's marker is the `null` version); only an unversioned bucket's expiry
    // removes the object.
    const now = this.#now()
    const marker =
      versioning === 'Enabled'
        ? { versionId: newVersionId(now), lastModified: now }
        : versioning === 'Suspended'
          ? { versionId: null, lastModified: now }
          : undefined
    const events = await this.#deleteEvent(bucket, tenantId, object.key, marker)
    let orphaned: readonly { ref: string }[]
    try {
      ;({ orphaned } = await meta.deleteObject(bucket, object.key, {
        events,
        expect: { etag: object.etag, lastModified: object.lastModified },
        ...(marker === undefined ? {} : { marker }),
      }))
    } catch (err) {
      if (isDomainError(err, 'meta') && err.code === 'PreconditionFailed') return false
      throw err
    }
    if (orphaned.length > 0) {
      await blob.remove(orphaned.map((p) => p.ref)).catch((err: unknown) => {
        logger.warn(
          { err, count: orphaned.length },
          'Could not remove unreferenced blobs; the startup sweep will',
        )
      })
    }
    return true
  }

  /**
   * Noncurrent versions and expired delete markers: pages through ListObjectVersions by whole
   * keys (a page that ends inside a key is read again from that key, so each key's versions are
   * judged together), works out each version's facts (when it became noncurrent, how many newer
   * noncurrent versions it has; whether a latest marker stands alone) and removes the versions
   * `versionAction` names, each with its own `object.delete` event.
   */
  async #expireVersions(
    bucket: string,
    tenantId: string,
    rules: readonly LifecycleRule[],
    counts: Counts,
  ): Promise<void> {
    const { meta, settings } = this.#deps
    const needsTags = rules.some((r) => r.filter.tags.length > 0)
    let keyMarker: string | null = null
    let pageSize = Math.max(2, settings.batchSize)
    for (;;) {
      this.#checkOpen()
      const page = await meta.listObjectVersions(bucket, {
        prefix: '',
        delimiter: null,
        keyMarker,
        versionIdMarker: null,
        maxKeys: pageSize,
      })
      let versions = page.versions
      if (page.isTruncated) {
        const last = versions[versions.length - 1]?.key
        const whole = versions.filter((v) => v.key !== last)
        if (whole.length === 0) {
          // One key has more versions than a page holds: read it whole with a larger page.
          pageSize *= 2
          continue
        }
        versions = whole
      }
      const now = this.#now()
      const due: { key: string; versionId: string | null }[] = []
      for (let i = 0; i < versions.length; ) {
        let j = i
        while (j < versions.length && versions[j]?.key === versions[i]?.key) j++
        const ofKey = versions.slice(i, j)
        const noncurrent = ofKey.filter((v) => !v.isLatest).length
        for (let k = 0; k < ofKey.length; k++) {
          const v = ofKey[k] as (typeof ofKey)[number]
          const tags =
            needsTags && !v.deleteMarker
              ? ((await meta.getObject(bucket, v.key, { versionId: v.versionId ?? 'null' }))
                  ?.tags ?? [])
              : []
          const facts: VersionFacts = {
            key: v.key,
            size: v.size,
            tags,
            isLatest: v.isLatest,
            isDeleteMarker: v.deleteMarker,
            noncurrentSince: v.isLatest ? null : (ofKey[k - 1]?.lastModified ?? null),
            newerNoncurrentVersions: ofKey.slice(0, k).filter((o) => !o.isLatest).length,
            noncurrentVersionCount: noncurrent,
            lastModified: v.lastModified,
          }
          const action = versionAction(rules, facts, now, settings.dayMs)
          if (action?.kind === 'delete-noncurrent' || action?.kind === 'remove-delete-marker') {
            due.push({ key: v.key, versionId: v.versionId })
          }
        }
        i = j
      }
      this.#checkBacklog(bucket, due.length)
      for (const d of due) {
        if (await this.#removeVersion(bucket, tenantId, d.key, d.versionId)) counts.expired++
        else counts.skipped++
      }
      if (!page.isTruncated) return
      keyMarker = versions[versions.length - 1]?.key ?? keyMarker
    }
  }

  /** Removes one version for good, as DeleteObject with `versionId` does; false if locked or gone. */
  async #removeVersion(
    bucket: string,
    tenantId: string,
    key: string,
    versionId: string | null,
  ): Promise<boolean> {
    const { meta, blob, logger } = this.#deps
    const events = await this.#deleteEvent(bucket, tenantId, key, undefined, versionId ?? 'null')
    try {
      const { deleted, orphaned } = await meta.deleteObject(bucket, key, {
        events,
        versionId: versionId ?? 'null',
        now: this.#now(),
      })
      if (orphaned.length > 0) {
        await blob.remove(orphaned.map((p) => p.ref)).catch((err: unknown) => {
          logger.warn({ err }, 'Could not remove unreferenced blobs; the startup sweep will')
        })
      }
      return deleted
    } catch (err) {
      // A version under Object Lock stays: lifecycle never bypasses a lock, as in S3.
      if (isDomainError(err, 'meta') && err.code === 'ObjectLocked') return false
      throw err
    }
  }

  async #abortUploads(
    bucket: string,
    rules: readonly LifecycleRule[],
    counts: Counts,
  ): Promise<void> {
    const { meta, blob, settings, logger } = this.#deps
    let keyMarker: string | null = null
    let uploadIdMarker: string | null = null
    for (;;) {
      this.#checkOpen()
      const page = await meta.listMultipartUploads(bucket, {
        prefix: '',
        delimiter: null,
        keyMarker,
        uploadIdMarker,
        maxUploads: settings.batchSize,
      })
      const now = this.#now()
      const due = page.uploads.filter(
        (u: MultipartUploadRecord) => abortingRule(rules, u, now, settings.dayMs) !== null,
      )
      for (const upload of due) {
        try {
          const { orphaned } = await meta.abortMultipartUpload(bucket, upload.uploadId)
          counts.aborted++
          if (orphaned.length > 0) {
            await blob.remove(orphaned.map((p) => p.ref)).catch((err: unknown) => {
              logger.warn({ err }, 'Could not remove unreferenced blobs; the startup sweep will')
            })
          }
        } catch (err) {
          // Completed or aborted by its owner meanwhile.
          if (!(isDomainError(err, 'meta') && err.code === 'NoSuchUpload')) throw err
          counts.skipped++
        }
      }
      if (!page.isTruncated) return
      keyMarker = page.nextKeyMarker
      uploadIdMarker = page.nextUploadIdMarker
    }
  }

  /** The `object.delete` event of an expiry, or none without the tenant's secret. */
  async #deleteEvent(
    bucket: string,
    tenantId: string,
    key: string,
    marker: { readonly versionId: string | null } | undefined,
    removedVersion?: string,
  ): Promise<Uint8Array[]> {
    const secretOf = this.#deps.ledgerSecretOf
    if (secretOf === undefined) return []
    const secret = await secretOf(tenantId)
    const event: LedgerEvent = {
      schema: LEDGER_EVENT_SCHEMA,
      at: new Date(this.#now()).toISOString(),
      dc: this.#deps.dc,
      actor: { kind: 'system', component: LIFECYCLE_COMPONENT },
      tenant: commit(secret, tenantId),
      bucket: commit(secret, bucket),
      type: 'object.delete',
      key: commit(secret, key),
      ...(marker === undefined ? {} : { deleteMarker: true }),
      ...(marker?.versionId == null ? {} : { versionId: marker.versionId }),
      ...(removedVersion === undefined ? {} : { versionId: removedVersion }),
      reason: 'lifecycle',
    }
    return [encodeEvent(event)]
  }

  /**
   * Ends the pass before `count` more events would overfill the ledger's backlog: the same
   * pushback that answers `SlowDown` to requests. The next pass continues.
   */
  #checkBacklog(bucket: string, count: number): void {
    if (count === 0) return
    const { meta, ledger, logger } = this.#deps
    if (meta.ledgerOutboxSize() + count > ledger.maxPending) {
      logger.warn({ bucket }, 'Lifecycle pass ended early: the ledger backlog is full')
      throw new PassStopped()
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new PassStopped()
  }
}
