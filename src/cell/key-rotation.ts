import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite, type Logger, readIfExists } from '../core/index.js'
import {
  isKeyError,
  type KeyContext,
  type KeyProvider,
  type SupportsKeyRotation,
  supportsKeyRotation,
} from '../keys/index.js'
import {
  commit,
  encodeEvent,
  LEDGER_EVENT_SCHEMA,
  type LedgerActor,
  type LedgerEvent,
} from '../ledger/index.js'
import type { MetaStore, StoredWrappedKey, WrappedKeyCursor } from '../meta/index.js'
import type { CellKeys } from './cell-keys.js'

/**
 * Bucket key rotation: `start(bucket)` makes a new key version current through the bucket's key
 * provider (new data keys are wrapped under it from then on), then re-wraps every data key the
 * bucket already holds in the background. Object bytes are never re-encrypted: each object keeps
 * its data key, only the wrapping changes. Old key versions stay, so every read works throughout.
 *
 * - The job pages through the bucket's wrapped keys (`MetaStore.listWrappedKeys`), re-wraps each
 *   with the provider (`rewrap`: the data key never leaves the key service) and swaps it in with a
 *   compare-and-swap, so an object overwritten or deleted meanwhile is never clobbered.
 * - Progress (cursor and counts) is saved durably after every batch in
 *   `<cellDir>/key-rotations/<hex(bucket)>.json`; a restarted cell resumes from there. A key
 *   re-wrapped but not yet recorded is found already current and not re-wrapped again.
 * - After the first pass, more passes run until one finds no data key under an older version
 *   (a write that wrapped its key just before the rotation and committed after the job passed
 *   its key is caught by the next pass), at most `MAX_PASSES`.
 * - SSE-C data keys are wrapped by the customer's own key, which the server never keeps: they
 *   cannot be re-wrapped and are counted as `skipped` (as are keys of another provider).
 * - `close()` aborts the jobs (they resume at the next start); `key.rotated` and
 *   `key.rewrap-finish` events go to the cell's ledger.
 */

/** Where a rotation is. */
export type KeyRotationState = 'running' | 'done' | 'failed'

/** A rotation's status, as the admin API reports it. */
export interface KeyRotationStatus {
  readonly bucket: string
  readonly state: KeyRotationState
  /** The provider rotated: `dc` or `vault-transit`. */
  readonly provider: string
  /** The key version data keys are re-wrapped under, when known. */
  readonly keyVersion: number | null
  /** Data keys re-wrapped under the new version. */
  readonly rewrapped: number
  /** Data keys already under the new version (written after the rotation started). */
  readonly current: number
  /** Data keys the server cannot re-wrap: SSE-C (the customer's key) or another provider's. */
  readonly skipped: number
  /** Data keys left under an old version because their re-wrap failed (they still open). */
  readonly failed: number
  /** Milliseconds since the epoch. */
  readonly startedAt: number
  readonly finishedAt: number | null
  /** Why the job failed or what the last failed re-wrap said; never key material. */
  readonly error: string | null
}

/** What `start` did. */
export type StartRotationResult =
  | { readonly kind: 'started'; readonly status: KeyRotationStatus }
  | { readonly kind: 'running'; readonly status: KeyRotationStatus }
  | { readonly kind: 'unsupported'; readonly provider: string }
  | { readonly kind: 'no-such-bucket' }

/** Who started a rotation: the bucket owner, by one of its access keys. */
export interface RotationRequester {
  readonly tenantId: string
  readonly accessKeyId: string
}

/** How the background re-wrap runs (`keyRotation` in the configuration). */
export interface KeyRotationSettings {
  readonly batchSize: number
  readonly concurrency: number
  readonly pauseMs: number
}

/** What the rotations of one cell need. */
export interface KeyRotationDeps {
  readonly dc: string
  /** The cell's folder; progress files live in `key-rotations/` below it. */
  readonly dir: string
  readonly meta: MetaStore
  readonly keys: CellKeys
  /** The cell's transparency log. */
  readonly ledger: { readonly log: { append(entry: Uint8Array): Promise<{ index: number }> } }
  /** The tenant's ledger secret (commitments in events); without it no events are written. */
  readonly ledgerSecretOf?: (tenantId: string) => Promise<Buffer>
  readonly settings: KeyRotationSettings
  readonly logger: Logger
  readonly now?: () => number
}

/** The durable form of a rotation: its status plus where the job is. */
interface RotationFile extends KeyRotationStatus {
  readonly format: 'sovra-key-rotation'
  readonly version: 1
  readonly dc: string
  readonly tenantId: string
  /** The bucket's creation time: a later bucket of the same name does not inherit the file. */
  readonly bucketCreatedAt: number
  /** Pass number (1 = the first full pass) and the cursor within it (null = its start). */
  readonly pass: number
  readonly cursor: WrappedKeyCursor | null
  /** Keys changed (or failed) so far in this pass: a pass with none ends the job. */
  readonly passChanges: number
}

interface Job {
  file: RotationFile
  readonly controller: AbortController
  readonly done: Promise<void>
}

/** Most passes over the bucket's keys before the job reports what is left as failed. */
export const MAX_PASSES = 4

/** Key errors that fail one data key; any other error stops the job. */
const PER_KEY_FAILURES = new Set(['InvalidWrappedKey', 'KeyDisabled'])

/** The key rotations of one cell (one per bucket at a time). */
export class KeyRotations {
  readonly #deps: KeyRotationDeps
  readonly #jobs = new Map<string, Job>()
  /** Starts under way, by bucket: a second `start` meanwhile waits and reports it running. */
  readonly #starting = new Map<string, Promise<StartRotationResult>>()
  readonly #now: () => number
  #closed = false

  constructor(deps: KeyRotationDeps) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
  }

  /** Resumes every rotation a previous process left running. */
  async resume(): Promise<void> {
    let names: string[]
    try {
      names = await readdir(this.#folder())
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const file = parseFile(await readIfExists(join(this.#folder(), name)))
      if (file === undefined || file.state !== 'running' || file.dc !== this.#deps.dc) continue
      this.#deps.logger.info(
        { bucket: file.bucket, pass: file.pass, rewrapped: file.rewrapped },
        'Resuming bucket key rotation',
      )
      this.#run(file)
    }
  }

  /**
   * Rotates the bucket's key and starts re-wrapping its data keys. The new key version is
   * current, and `key.rotated` logged, before this resolves.
   */
  async start(bucket: string, requester: RotationRequester): Promise<StartRotationResult> {
    if (this.#closed) throw new Error('Cannot rotate a bucket key: the cell is closing')
    const running = this.#jobs.get(bucket)
    if (running !== undefined) {
      if (running.file.state === 'running') {
        return { kind: 'running', status: statusOf(running.file) }
      }
      // Finished, still logging its end: wait for it, then start anew.
      await running.done
      return this.start(bucket, requester)
    }
    const pending = this.#starting.get(bucket)
    if (pending !== undefined) {
      const first = await pending.catch(() => undefined)
      if (first?.kind !== 'started') return this.start(bucket, requester)
      const job = this.#jobs.get(bucket)
      return { kind: 'running', status: job === undefined ? first.status : statusOf(job.file) }
    }
    const started = this.#begin(bucket, requester)
    this.#starting.set(bucket, started)
    try {
      return await started
    } finally {
      this.#starting.delete(bucket)
    }
  }

  async #begin(bucket: string, requester: RotationRequester): Promise<StartRotationResult> {
    const record = await this.#deps.meta.getBucket(bucket)
    if (record === null) return { kind: 'no-such-bucket' }
    const provider = await this.#deps.keys.wrapperFor({
      bucket,
      kmsKeyArn: record.encryption?.kmsKeyId ?? null,
      customerKey: null,
    })
    if (!supportsKeyRotation(provider)) return { kind: 'unsupported', provider: provider.name }
    const keyVersion = (await provider.rotate(this.#context(bucket))) ?? null
    const startedAt = this.#now()
    const file: RotationFile = {
      format: 'sovra-key-rotation',
      version: 1,
      dc: this.#deps.dc,
      bucket,
      tenantId: record.tenantId,
      bucketCreatedAt: record.createdAt,
      state: 'running',
      provider: provider.name,
      keyVersion,
      rewrapped: 0,
      current: 0,
      skipped: 0,
      failed: 0,
      startedAt,
      finishedAt: null,
      error: null,
      pass: 1,
      cursor: null,
      passChanges: 0,
    }
    await this.#event(file, {
      actor: 'requester',
      requester,
      body: {
        type: 'key.rotated',
        provider: ledgerProvider(provider.name),
        ...(keyVersion === null ? {} : { keyVersion }),
      },
    })
    await this.#save(file)
    this.#deps.logger.info(
      { bucket, provider: provider.name, keyVersion },
      'Rotated bucket key; re-wrapping its data keys',
    )
    this.#run(file)
    return { kind: 'started', status: statusOf(file) }
  }

  /** The bucket's current or last rotation, or null (none, or the bucket is gone). */
  async status(bucket: string): Promise<KeyRotationStatus | null> {
    const job = this.#jobs.get(bucket)
    if (job !== undefined) return statusOf(job.file)
    const file = parseFile(await readIfExists(this.#path(bucket)))
    if (file === undefined || file.bucket !== bucket) return null
    const record = await this.#deps.meta.getBucket(bucket)
    if (record === null || record.createdAt !== file.bucketCreatedAt) return null
    return statusOf(file)
  }

  /** Resolves once the bucket's running job (if any) stopped; then its status. */
  async settled(bucket: string): Promise<KeyRotationStatus | null> {
    await this.#jobs.get(bucket)?.done
    return this.status(bucket)
  }

  /** Aborts every job (each resumes from its saved progress at the next start) and waits. */
  async close(): Promise<void> {
    this.#closed = true
    const jobs = [...this.#jobs.values()]
    for (const job of jobs) job.controller.abort()
    await Promise.allSettled(jobs.map((j) => j.done))
  }

  #run(initial: RotationFile): void {
    const controller = new AbortController()
    let resolveDone: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve
    })
    const job: Job = { file: initial, controller, done }
    this.#jobs.set(initial.bucket, job)
    void this.#work(job)
      .catch((err: unknown) => {
        this.#deps.logger.error(
          { err, bucket: initial.bucket },
          'Bucket key rotation stopped on an error',
        )
      })
      .finally(() => {
        this.#jobs.delete(initial.bucket)
        resolveDone()
      })
  }

  async #work(job: Job): Promise<void> {
    const { bucket } = job.file
    const signal = job.controller.signal
    const { settings, meta, logger } = this.#deps
    const record = await meta.getBucket(bucket)
    const provider =
      record === null || record.createdAt !== job.file.bucketCreatedAt
        ? undefined
        : await this.#deps.keys.wrapperFor({
            bucket,
            kmsKeyArn: record.encryption?.kmsKeyId ?? null,
            customerKey: null,
          })
    if (provider === undefined || provider.name !== job.file.provider) {
      await this.#finish(job, 'failed', 'the bucket was deleted or its key provider changed')
      return
    }
    if (!supportsKeyRotation(provider)) {
      await this.#finish(job, 'failed', `provider "${provider.name}" cannot re-wrap`)
      return
    }
    for (;;) {
      if (signal.aborted) return
      let page: Awaited<ReturnType<MetaStore['listWrappedKeys']>>
      try {
        page = await meta.listWrappedKeys(bucket, {
          after: job.file.cursor,
          limit: settings.batchSize,
        })
      } catch (err) {
        if ((err as { code?: string }).code === 'NoSuchBucket') {
          await this.#finish(job, 'failed', 'the bucket was deleted')
          return
        }
        throw err
      }
      const stop = await this.#rewrapPage(job, provider, page.keys, signal)
      if (signal.aborted) return
      if (stop !== null) {
        await this.#finish(job, 'failed', stop)
        return
      }
      if (page.next !== null) {
        job.file = { ...job.file, cursor: page.next }
        await this.#save(job.file)
      } else {
        // End of a pass: another one while the last changed something and a version is known.
        const again =
          job.file.passChanges > 0 && job.file.keyVersion !== null && job.file.pass < MAX_PASSES
        if (!again) {
          await this.#finish(job, job.file.failed === 0 ? 'done' : 'failed', job.file.error)
          return
        }
        job.file = { ...job.file, pass: job.file.pass + 1, cursor: null, passChanges: 0 }
        // Failures are recounted by the next pass, which retries them.
        job.file = { ...job.file, failed: 0 }
        await this.#save(job.file)
        logger.info({ bucket, pass: job.file.pass }, 'Bucket key rotation: another pass')
      }
      if (settings.pauseMs > 0) await sleep(settings.pauseMs, signal)
    }
  }

  /** Re-wraps one page with bounded concurrency; returns why the job must stop, or null. */
  async #rewrapPage(
    job: Job,
    provider: KeyProvider & SupportsKeyRotation,
    keys: readonly StoredWrappedKey[],
    signal: AbortSignal,
  ): Promise<string | null> {
    const context = this.#context(job.file.bucket)
    const firstPass = job.file.pass === 1
    let next = 0
    let stop: string | null = null
    const swaps: Promise<void>[] = []
    const worker = async () => {
      while (stop === null && !signal.aborted) {
        const stored = keys[next++]
        if (stored === undefined) return
        const name = stored.wrappedKey.split(':', 1)[0]
        if (name !== provider.name) {
          if (firstPass) this.#count(job, { skipped: 1 })
          continue
        }
        const version = provider.keyVersionOf(stored.wrappedKey)
        const target = job.file.keyVersion
        if (target !== null && version !== undefined && version >= target) {
          if (firstPass) this.#count(job, { current: 1 })
          continue
        }
        try {
          const rewrapped = await provider.rewrap(stored.wrappedKey, context, signal)
          if (target === null) {
            const learnt = provider.keyVersionOf(rewrapped)
            if (learnt !== undefined) job.file = { ...job.file, keyVersion: learnt }
          }
          // Not awaited here: the page's swaps share the metadata store's group commit (one
          // fsync for many). False: the object was overwritten, deleted or completed meanwhile;
          // its new key (if any) is under the current version or caught by the next pass.
          swaps.push(
            this.#deps.meta
              .replaceWrappedKey(job.file.bucket, stored, rewrapped)
              .then((swapped) => {
                if (swapped) this.#count(job, { rewrapped: 1, passChanges: 1 })
              }),
          )
        } catch (err) {
          if (signal.aborted) return
          const reason = err instanceof Error ? err.message : String(err)
          if (isKeyError(err) && PER_KEY_FAILURES.has(err.code)) {
            this.#count(job, { failed: 1, passChanges: 1 })
            job.file = { ...job.file, error: reason }
            this.#deps.logger.warn(
              { bucket: job.file.bucket, location: stored.location, code: err.code },
              'Could not re-wrap a data key; it still opens with its old key version',
            )
            continue
          }
          stop = reason
        }
      }
    }
    const workers = Math.max(1, Math.min(this.#deps.settings.concurrency, keys.length))
    await Promise.all(Array.from({ length: workers }, worker))
    // Durable before the page's progress is saved; a failed swap stops the job.
    const results = await Promise.allSettled(swaps)
    for (const r of results) {
      if (r.status === 'rejected' && stop === null) {
        stop = r.reason instanceof Error ? r.reason.message : String(r.reason)
      }
    }
    return stop
  }

  #count(
    job: Job,
    add: Partial<Record<'rewrapped' | 'current' | 'skipped' | 'failed' | 'passChanges', number>>,
  ): void {
    const f = job.file
    job.file = {
      ...f,
      rewrapped: f.rewrapped + (add.rewrapped ?? 0),
      current: f.current + (add.current ?? 0),
      skipped: f.skipped + (add.skipped ?? 0),
      failed: f.failed + (add.failed ?? 0),
      passChanges: f.passChanges + (add.passChanges ?? 0),
    }
  }

  async #finish(job: Job, state: 'done' | 'failed', error: string | null): Promise<void> {
    job.file = { ...job.file, state, error, finishedAt: this.#now(), cursor: null }
    await this.#save(job.file)
    const f = job.file
    this.#deps.logger[state === 'done' ? 'info' : 'warn'](
      {
        bucket: f.bucket,
        state,
        keyVersion: f.keyVersion,
        rewrapped: f.rewrapped,
        current: f.current,
        skipped: f.skipped,
        failed: f.failed,
        ...(error === null ? {} : { error }),
      },
      'Bucket key rotation finished',
    )
    await this.#event(f, {
      actor: 'system',
      body: {
        type: 'key.rewrap-finish',
        provider: ledgerProvider(f.provider),
        status: state,
        ...(f.keyVersion === null ? {} : { keyVersion: f.keyVersion }),
        rewrapped: f.rewrapped,
        skipped: f.skipped,
        failed: f.failed,
      },
    }).catch((err: unknown) => {
      this.#deps.logger.error({ err, bucket: f.bucket }, 'Could not log the end of a key rotation')
    })
  }

  async #event(
    file: RotationFile,
    spec:
      | { actor: 'requester'; requester: RotationRequester; body: EventBody }
      | { actor: 'system'; body: EventBody },
  ): Promise<void> {
    const secretOf = this.#deps.ledgerSecretOf
    if (secretOf === undefined) return
    const secret = await secretOf(file.tenantId)
    const tenant = commit(secret, file.tenantId)
    const actor: LedgerActor =
      spec.actor === 'requester'
        ? { kind: 'tenant', tenant, accessKey: commit(secret, spec.requester.accessKeyId) }
        : { kind: 'system', component: 'key-rotation' }
    const event = {
      schema: LEDGER_EVENT_SCHEMA,
      at: new Date(this.#now()).toISOString(),
      dc: this.#deps.dc,
      actor,
      tenant,
      bucket: commit(secret, file.bucket),
      ...spec.body,
    } as LedgerEvent
    await this.#deps.ledger.log.append(encodeEvent(event))
  }

  #context(bucket: string): KeyContext {
    return { dc: this.#deps.dc, bucket }
  }

  #folder(): string {
    return join(this.#deps.dir, 'key-rotations')
  }

  #path(bucket: string): string {
    return join(this.#folder(), `${Buffer.from(bucket, 'utf8').toString('hex')}.json`)
  }

  async #save(file: RotationFile): Promise<void> {
    await atomicWrite(this.#path(file.bucket), `${JSON.stringify(file, null, 2)}\n`, {
      dirMode: 0o700,
    })
  }
}

type EventBody =
  | { type: 'key.rotated'; provider: 'local' | 'vault-transit'; keyVersion?: number }
  | {
      type: 'key.rewrap-finish'
      provider: 'local' | 'vault-transit'
      status: 'done' | 'failed'
      keyVersion?: number
      rewrapped: number
      skipped: number
      failed: number
    }

/** The ledger's name for a provider (`dc` is the data center's `local` key). */
function ledgerProvider(name: string): 'local' | 'vault-transit' {
  return name === 'vault-transit' ? 'vault-transit' : 'local'
}

function statusOf(file: RotationFile): KeyRotationStatus {
  return {
    bucket: file.bucket,
    state: file.state,
    provider: file.provider,
    keyVersion: file.keyVersion,
    rewrapped: file.rewrapped,
    current: file.current,
    skipped: file.skipped,
    failed: file.failed,
    startedAt: file.startedAt,
    finishedAt: file.finishedAt,
    error: file.error,
  }
}

function parseFile(text: string | undefined): RotationFile | undefined {
  if (text === undefined) return undefined
  try {
    const file = JSON.parse(text) as Partial<RotationFile>
    if (file.format !== 'sovra-key-rotation' || file.version !== 1) return undefined
    return file as RotationFile
  } catch {
    return undefined
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
