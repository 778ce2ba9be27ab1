import type { Cell } from '../../cell/index.js'
import type { Logger } from '../../core/index.js'
import type { Directory, TransferRecord } from '../../directory/index.js'
import type { TransferCounts, TransferObjectProgress } from '../../meta/index.js'
import {
  parseSignedInstruction,
  type TransferInstruction,
  type TransferScope,
} from './instruction.js'
import { type CopyOptions, copyObjectBetweenCells, removeObject } from './object-copier.js'
import { ResidencyErrors } from './residency-error.js'
import { TransferEvents } from './transfer-events.js'

/** What the runner needs; only the transfer gate holds two cells. */
export interface TransferRunnerDeps {
  readonly directory: Directory
  /** The open cell of a data center in this process, or undefined. */
  readonly cellOf: (dcId: string) => Cell | undefined
  readonly logger: Logger
  readonly now: () => number
  readonly inlineMaxBytes: number
  /** How often queued jobs not scheduled here (another process, a job left queued) are picked up. Default 1000 ms. */
  readonly pollMs?: number
  /**
   * How long a migrate waits after switching the bucket's home before its catch-up pass, so that
   * writes already accepted by the old endpoint land (the directory's placement cache lives ≤ 1 s).
   * Default 1500 ms.
   */
  readonly switchGraceMs?: number
  /**
   * How many objects the copy phase moves at once (default 8): their metadata commits, progress
   * records and ledger appends then share the stores' group commits instead of waiting for one
   * durable write after another. Each object's own steps keep their order.
   */
  readonly objectsInFlight?: number
  /**
   * Test hook: called after each object step; returning true stops the job there, as a crash
   * would: no new object is started, the objects already in flight finish their steps.
   */
  readonly afterObject?: (transferId: string, key: string) => boolean
}

/** A job stopped on purpose (shutdown, test crash): left `running` and resumed later. */
class Interrupted extends Error {}

const PAGE = 1000
/** Objects copied at once by default (see `objectsInFlight`). */
const OBJECTS_IN_FLIGHT = 8
/** How often a running job copies its counters from the destination cell to the directory. */
const COUNTS_EVERY_MS = 1000

/**
 * Runs accepted transfers one at a time, durably: the instruction is logged in both ledgers
 * before any byte moves, every object's progress is recorded in the destination cell (object
 * names never go to the directory, which keeps only the job and its counters), and a job
 * interrupted by a crash or a stop resumes where it was (idempotently: an object already copied
 * is not copied twice, and one copied again over an identical copy changes nothing).
 */
export class TransferRunner {
  readonly #deps: TransferRunnerDeps
  readonly #abort = new AbortController()
  #chain: Promise<void> = Promise.resolve()
  readonly #queued = new Set<string>()
  readonly #waiting = new Set<string>()
  readonly #held = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(deps: TransferRunnerDeps) {
    this.#deps = deps
  }

  /** Resumes unfinished jobs and starts polling for queued ones. */
  start(): void {
    const poll = () => {
      this.poll().catch((err: unknown) =>
        this.#deps.logger.warn({ err }, 'Could not look for transfers to run'),
      )
    }
    poll()
    const every = this.#deps.pollMs ?? 1000
    if (every > 0) {
      this.#timer = setInterval(poll, every)
      this.#timer.unref()
    }
  }

  /** Schedules every queued or running job this process can run. */
  async poll(): Promise<void> {
    if (this.#closed) return
    const open = await this.#deps.directory.listTransfers({ statuses: ['queued', 'running'] })
    for (const t of open.reverse()) if (!this.#held.has(t.id)) void this.schedule(t.id)
  }

  /** Schedules one job (once); resolves when it has run. */
  schedule(id: string): Promise<void> {
    if (this.#closed || this.#queued.has(id)) return this.#chain
    this.#queued.add(id)
    this.#chain = this.#chain
      .then(async () => {
        try {
          await this.run(id)
        } finally {
          this.#queued.delete(id)
        }
      })
      .catch((err: unknown) =>
        this.#deps.logger.error({ err, transfer: id }, 'Transfer runner failed'),
      )
    return this.#chain
  }

  /** Keeps the poller away from a job this process is submitting (it logs, then schedules it). */
  hold(id: string): void {
    this.#held.set(id, (this.#held.get(id) ?? 0) + 1)
  }

  release(id: string): void {
    const left = (this.#held.get(id) ?? 1) - 1
    if (left > 0) this.#held.set(id, left)
    else this.#held.delete(id)
  }

  /** Waits for everything scheduled so far. */
  idle(): Promise<void> {
    return this.#chain
  }

  /** Stops polling, interrupts the running job at its next object, and waits for it. */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    this.#abort.abort()
    await this.#chain.catch(() => undefined)
  }

  /**
   * Logs the instruction in both ledgers (durable appends, awaited) unless already logged, and
   * marks it so. Nothing of the transfer moves before this resolves.
   */
  async ensureLogged(transfer: TransferRecord): Promise<TransferRecord> {
    if (transfer.loggedAt !== null) return transfer
    const { source, destination } = this.#cells(transfer)
    const events = await this.#events(transfer)
    await events.instruction({ source, destination }, instructionOf(transfer))
    return this.#deps.directory.updateTransfer(transfer.id, { loggedAt: this.#deps.now() })
  }

  /** Runs (or resumes) one job to its end. A failure is recorded on the job, not thrown. */
  async run(id: string): Promise<void> {
    const directory = this.#deps.directory
    let transfer = await directory.getTransfer(id)
    if (transfer === null || transfer.status === 'done' || transfer.status === 'failed') return
    const source = this.#deps.cellOf(transfer.source.dc)
    const destination = this.#deps.cellOf(transfer.destination.dc)
    if (source === undefined || destination === undefined) {
      // Both cells must be open in the process that runs a job; say so once, then wait.
      if (!this.#waiting.has(id)) {
        this.#waiting.add(id)
        this.#deps.logger.warn(
          { transfer: id, source: transfer.source.dc, destination: transfer.destination.dc },
          'Transfer waits: a data center of it has no cell in this process',
        )
      }
      return
    }
    const log = this.#deps.logger.child({ transfer: id })
    try {
      transfer = await this.ensureLogged(transfer)
      transfer = await directory.updateTransfer(id, { status: 'running' })
      const job = new Job(
        this.#deps,
        transfer,
        source,
        destination,
        await this.#events(transfer),
        this.#abort.signal,
      )
      await job.run()
      const done = await directory.updateTransfer(id, {
        status: 'done',
        finishedAt: this.#deps.now(),
        counts: await destination.meta.transferCounts(id),
      })
      await destination.meta.forgetTransfer(id)
      // The job is done whatever happens to this last event: its failure is logged, not fatal.
      await job.events
        .finish(
          { source, destination },
          {
            status: 'done',
            objects: done.objectsDone,
            bytes: done.bytesDone,
            missing: done.objectsMissing,
            ...(done.operation === 'migrate' ? { homeMoved: true } : {}),
          },
        )
        .catch((err: unknown) => log.warn({ err }, 'Could not log the finished transfer'))
      log.info({ objects: done.objectsDone, bytes: done.bytesDone }, 'Transfer done')
    } catch (err) {
      if (err instanceof Interrupted || this.#abort.signal.aborted) {
        // The counters the directory shows are copied now and then; bring them up to date.
        await destination.meta
          .transferCounts(id)
          .then((counts) => directory.updateTransfer(id, { counts }))
          .catch((e: unknown) => log.warn({ err: e }, 'Could not record the counters'))
        log.info('Transfer interrupted; it resumes on the next start')
        return
      }
      log.error({ err }, 'Transfer failed')
      const counts = await destination.meta.transferCounts(id).catch(() => undefined)
      const failed = await directory.updateTransfer(id, {
        status: 'failed',
        error: err instanceof Error ? err.message : String(err),
        finishedAt: this.#deps.now(),
        ...(counts === undefined ? {} : { counts }),
      })
      await destination.meta.forgetTransfer(id).catch(() => undefined)
      if (failed.loggedAt !== null) {
        await (await this.#events(failed))
          .finish(
            { source, destination },
            {
              status: 'failed',
              objects: failed.objectsDone,
              bytes: failed.bytesDone,
              missing: failed.objectsMissing,
            },
          )
          .catch((e: unknown) => log.warn({ err: e }, 'Could not log the failed transfer'))
      }
    }
  }

  #cells(transfer: TransferRecord): { source: Cell; destination: Cell } {
    const source = this.#deps.cellOf(transfer.source.dc)
    if (source === undefined) throw ResidencyErrors.dataCenterUnavailable(transfer.source.dc)
    const destination = this.#deps.cellOf(transfer.destination.dc)
    if (destination === undefined)
      throw ResidencyErrors.dataCenterUnavailable(transfer.destination.dc)
    return { source, destination }
  }

  async #events(transfer: TransferRecord): Promise<TransferEvents> {
    return new TransferEvents(
      await this.#deps.directory.ledgerSecretOf(transfer.tenantId),
      transfer,
      this.#deps.now,
    )
  }
}

/** The signed instruction a transfer record carries. */
export function instructionOf(transfer: TransferRecord): TransferInstruction {
  return parseSignedInstruction(JSON.parse(transfer.signed) as unknown).instruction
}

/** One run of one transfer. */
class Job {
  readonly #deps: TransferRunnerDeps
  readonly #t: TransferRecord
  readonly #source: Cell
  readonly #destination: Cell
  readonly events: TransferEvents
  readonly #signal: AbortSignal
  readonly #scope: TransferScope
  #countsCopiedAt = 0

  constructor(
    deps: TransferRunnerDeps,
    transfer: TransferRecord,
    source: Cell,
    destination: Cell,
    events: TransferEvents,
    signal: AbortSignal,
  ) {
    this.#deps = deps
    this.#t = transfer
    this.#source = source
    this.#destination = destination
    this.events = events
    this.#signal = signal
    this.#scope = instructionOf(transfer).scope
  }

  async run(): Promise<void> {
    const t = this.#t
    let phase = t.phase
    if (phase === 'copy') {
      if (t.operation === 'migrate') await this.#ensureDestinationBucket()
      await forEachInFlight(
        this.#keys(),
        Math.max(1, this.#deps.objectsInFlight ?? OBJECTS_IN_FLIGHT),
        (key) => this.#transferOne(key),
      )
      if (t.operation !== 'migrate') return
      await this.#deps.directory.moveBucketHome(t.source.bucket, t.source.dc, t.destination.dc)
      await this.#deps.directory.updateTransfer(t.id, { phase: 'switched' })
      phase = 'switched'
    }
    if (phase === 'switched') {
      await sleep(this.#deps.switchGraceMs ?? 1500, this.#signal)
      // Catch-up: writes the old endpoint accepted while the copy ran.
      for await (const key of this.#keys()) await this.#catchUp(key)
      await this.#deps.directory.updateTransfer(t.id, { phase: 'cleanup' })
      phase = 'cleanup'
    }
    if (phase === 'cleanup') await this.#removeSourceBucket()
  }

  /** Copies one key (if not already durable at the destination), then finishes it. */
  async #transferOne(key: string): Promise<void> {
    this.#checkInterrupted()
    const t = this.#t
    const prior = await this.#progress(key)
    if (prior?.state === 'done' || prior?.state === 'missing') return
    let copied = prior
    if (copied === null) {
      const out = await copyObjectBetweenCells(
        this.#source,
        this.#destination,
        { bucket: t.source.bucket, key },
        { bucket: t.destination.bucket },
        this.#copyOptions(),
      )
      if (out.kind === 'missing') {
        await this.#record({ key, state: 'missing', size: 0, etag: '' })
        return
      }
      copied = { key, state: 'copied', size: out.record.size, etag: out.record.etag }
      // Logged before it is recorded: a recorded copy always has its event. A crash between the
      // two copies the object again on resume and logs it again (at least once, never missing).
      await this.events.object(this.#both(), { ...copied, action: 'copied' })
      await this.#record(copied)
    }
    if (t.operation === 'move') {
      // Only now, with the destination durable and recorded, does the source copy go.
      if (await removeObject(this.#source, t.source.bucket, key)) {
        await this.events.object([{ cell: this.#source, role: 'source' }], {
          ...copied,
          action: 'source-removed',
        })
      }
    }
    if (t.operation === 'migrate') {
      // The source copy is removed after the home switch (cleanup): it stays readable until then.
      await this.#record({ ...copied, state: 'copied' })
    } else {
      await this.#record({ ...copied, state: 'done' })
    }
    this.#crashPoint(key)
  }

  /** After the switch: copies a key the source changed, unless the destination was written since. */
  async #catchUp(key: string): Promise<void> {
    this.#checkInterrupted()
    const t = this.#t
    const prior = await this.#progress(key)
    const current = await this.#source.meta.getObject(t.source.bucket, key)
    if (current === null) return
    if (prior !== null && prior.etag === current.etag && prior.size === current.size) return
    const there = await this.#destination.meta.getObject(t.destination.bucket, key)
    if (there !== null && (prior === null || there.etag !== prior.etag)) return // newer at the destination
    await this.#transferOneAgain(key)
  }

  /** How objects are copied: with the receipt of the source read for log-before-decrypt. */
  #copyOptions(): CopyOptions {
    const source = this.#source
    return {
      inlineMaxBytes: this.#deps.inlineMaxBytes,
      signal: this.#signal,
      sourceReceipt: (record) =>
        this.events.sourceRead(source, {
          bucket: record.bucket,
          key: record.key,
          bytes: record.size,
        }),
    }
  }

  async #transferOneAgain(key: string): Promise<void> {
    const t = this.#t
    const out = await copyObjectBetweenCells(
      this.#source,
      this.#destination,
      { bucket: t.source.bucket, key },
      { bucket: t.destination.bucket },
      this.#copyOptions(),
    )
    if (out.kind === 'missing') return
    const copied = { key, state: 'copied' as const, size: out.record.size, etag: out.record.etag }
    await this.events.object(this.#both(), { ...copied, action: 'copied' })
    await this.#record(copied)
  }

  /**
   * Migrate's last step: every object still in the source bucket is caught up (a write the old
   * endpoint accepted late is copied unless the destination has a newer one), then removed; a
   * copied object the source deleted meanwhile is removed from the destination too; then the
   * bucket leaves the old cell. A write racing the last listing makes the bucket non-empty: the
   * pass repeats, so nothing is removed uncopied.
   */
  async #removeSourceBucket(): Promise<void> {
    const t = this.#t
    for (let attempt = 0; ; attempt++) {
      for await (const key of this.#keys()) {
        this.#checkInterrupted()
        await this.#catchUp(key)
        const record = await this.#source.meta.getObject(t.source.bucket, key)
        if (record === null) continue
        // Counted first: a crash before the removal only repeats the removal on resume.
        await this.#record({
          key,
          state: 'done',
          size: record.size,
          etag: record.etag,
        })
        await removeObject(this.#source, t.source.bucket, key)
        await this.events.object([{ cell: this.#source, role: 'source' }], {
          key,
          size: record.size,
          etag: record.etag,
          action: 'source-removed',
        })
        this.#crashPoint(key)
      }
      await this.#carryDeletes()
      if ((await this.#source.meta.getBucket(t.source.bucket)) === null) return
      try {
        const { orphaned } = await this.#source.meta.deleteBucket(t.source.bucket)
        await this.#source.blob.remove(orphaned.map((p) => p.ref)).catch(() => undefined)
        return
      } catch (err) {
        const notEmpty = (err as { code?: string }).code === 'BucketNotEmpty'
        if (!notEmpty || attempt >= 10) throw err
      }
    }
  }

  /**
   * Migrate: objects copied during the job and deleted at the old endpoint before its cleanup
   * (still `copied` here, gone at the source) are deleted at the destination too, unless the
   * destination was written since (its ETag is no longer the copied one). Without this, a
   * delete the customer saw succeed would be undone by the migration.
   */
  async #carryDeletes(): Promise<void> {
    const t = this.#t
    let after = ''
    for (;;) {
      const page = await this.#destination.meta.listTransferObjects(t.id, {
        state: 'copied',
        after,
        limit: PAGE,
      })
      for (const copied of page) {
        this.#checkInterrupted()
        after = copied.key
        if ((await this.#source.meta.getObject(t.source.bucket, copied.key)) !== null) continue
        const there = await this.#destination.meta.getObject(t.destination.bucket, copied.key)
        if (there !== null && there.etag === copied.etag) {
          await removeObject(this.#destination, t.destination.bucket, copied.key)
          await this.events.object([{ cell: this.#destination, role: 'destination' }], {
            ...copied,
            action: 'destination-removed',
          })
        }
        await this.#record({ key: copied.key, state: 'missing', size: 0, etag: '' })
      }
      if (page.length < PAGE) return
    }
  }

  async #ensureDestinationBucket(): Promise<void> {
    const t = this.#t
    if ((await this.#destination.meta.getBucket(t.destination.bucket)) !== null) return
    const here = await this.#source.meta.getBucket(t.source.bucket)
    await this.#destination.meta.createBucket({
      name: t.destination.bucket,
      tenantId: t.tenantId,
      createdAt: here?.createdAt ?? this.#deps.now(),
    })
  }

  /** The keys in scope, in key order, read page by page from the source's metadata store. */
  async *#keys(): AsyncGenerator<string> {
    const scope = this.#scope
    if (scope.kind === 'keys') {
      yield* [...new Set(scope.keys)].sort()
      return
    }
    const prefix = scope.kind === 'prefix' ? scope.prefix : ''
    let after: string | null = null
    for (;;) {
      const page = await this.#source.meta.listObjects(this.#t.source.bucket, {
        prefix,
        delimiter: null,
        after,
        maxKeys: PAGE,
      })
      for (const o of page.objects) yield o.key
      if (!page.isTruncated || page.lastReturned === null) return
      after = page.lastReturned
    }
  }

  /** One object's recorded progress, from the destination cell. */
  #progress(key: string): Promise<TransferObjectProgress | null> {
    return this.#destination.meta.transferObject(this.#t.id, key)
  }

  /**
   * Records one object's progress durably in the destination cell, and now and then copies the
   * job's counters to the directory (for `transfer status`; the final ones are set at the end).
   */
  async #record(object: TransferObjectProgress): Promise<void> {
    const counts: TransferCounts = await this.#destination.meta.recordTransferObject(
      this.#t.id,
      object,
    )
    const now = performance.now()
    if (now - this.#countsCopiedAt < COUNTS_EVERY_MS) return
    this.#countsCopiedAt = now
    await this.#deps.directory.updateTransfer(this.#t.id, { counts })
  }

  #both(): Array<{ cell: Cell; role: 'source' | 'destination' }> {
    return [
      { cell: this.#source, role: 'source' },
      { cell: this.#destination, role: 'destination' },
    ]
  }

  #crashPoint(key: string): void {
    if (this.#deps.afterObject?.(this.#t.id, key) === true) throw new Interrupted('Simulated crash')
  }

  #checkInterrupted(): void {
    if (this.#signal.aborted) throw new Interrupted('Transfer interrupted')
  }
}

/**
 * Runs `each` over `items`, at most `limit` at a time, in the items' order of start. After the
 * first failure no new item starts; those in flight finish (or fail), then that first failure is
 * thrown.
 */
async function forEachInFlight<T>(
  items: AsyncIterable<T>,
  limit: number,
  each: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.asyncIterator]()
  let failure: { readonly err: unknown } | null = null
  const lane = async (): Promise<void> => {
    while (failure === null) {
      let next: IteratorResult<T>
      try {
        next = await iterator.next()
      } catch (err) {
        failure ??= { err }
        return
      }
      if (next.done === true) return
      try {
        await each(next.value)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: limit }, lane))
  if (failure !== null) {
    await iterator.return?.(undefined).catch(() => undefined)
    throw (failure as { readonly err: unknown }).err
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Interrupted('Transfer interrupted'))
      return
    }
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(new Interrupted('Transfer interrupted'))
      },
      { once: true },
    )
  })
}
