import type { Readable } from 'node:stream'
import type { Cell } from '../../cell/index.js'
import { isDomainError, type Logger } from '../../core/index.js'
import type { Directory, TransferRecord } from '../../directory/index.js'
import type { ObjectRecord } from '../../meta/index.js'
import type { ExportRules } from '../export-rules/index.js'
import { parseSignedInstruction, parseUtcTime, type TransferScope } from './instruction.js'
import { openPlaintextRange } from './object-copier.js'
import { ResidencyErrors } from './residency-error.js'
import { TransferEvents } from './transfer-events.js'
import { instructionOf, TransferRunner, type TransferRunnerDeps } from './transfer-runner.js'
import {
  type BucketFacts,
  type DataCenterFacts,
  DEFAULT_CLOCK_SKEW_MS,
  type TransferRequest,
  verifyInstruction,
} from './verify-instruction.js'

/** What the gate is built from (by main.ts; tests may leave out the cells). */
export interface TransferGateDeps {
  readonly directory: Directory
  readonly exportRules: ExportRules
  readonly logger: Logger
  readonly now: () => number
  /**
   * The open cells of this process. Without it the gate only accepts
   * and records instructions; a server with both cells logs and runs them.
   */
  readonly cellOf?: (dcId: string) => Cell | undefined
  readonly inlineMaxBytes?: number
  /** Runner tuning and test hooks. */
  readonly runner?: Pick<
    TransferRunnerDeps,
    'pollMs' | 'switchGraceMs' | 'objectsInFlight' | 'afterObject'
  >
}

/** A copy an S3 request asks for under a submitted instruction. */
export interface CoveredCopy {
  readonly tenantId: string
  readonly transferId: string
  readonly source: { readonly dc: string; readonly bucket: string; readonly key: string }
  readonly destination: { readonly dc: string; readonly bucket: string; readonly key: string }
  /** The request's own checks on the source record (copy-source conditions), run before anything is logged or read. */
  readonly accept?: (record: ObjectRecord) => void
}

/** The source object of a covered copy and a way to read its plaintext. */
export interface CoveredSource {
  readonly record: ObjectRecord
  read(range: { readonly start: number; readonly end: number } | null): Promise<Readable>
}

/**
 * The transfer gate: the only code that reads from one cell and writes to another. `submit`
 * verifies a customer-signed instruction against the directory, consumes its nonce and records
 * the job in one transaction, logs it in both data centers' ledgers, and then runs it.
 */
export class TransferGate {
  readonly #deps: TransferGateDeps
  readonly #runner: TransferRunner | null

  constructor(deps: TransferGateDeps) {
    this.#deps = deps
    const cellOf = deps.cellOf
    this.#runner =
      cellOf === undefined
        ? null
        : new TransferRunner({
            directory: deps.directory,
            cellOf,
            logger: deps.logger,
            now: deps.now,
            inlineMaxBytes: deps.inlineMaxBytes ?? 0,
            ...deps.runner,
          })
  }

  /** Resumes unfinished jobs and picks up ones queued by another process. */
  start(): void {
    this.#runner?.start()
  }

  /** Stops the runner at its next object; the job resumes on the next start. */
  async close(): Promise<void> {
    await this.#runner?.close()
  }

  /** Resolves when every job scheduled so far has run (tests). */
  async idle(): Promise<void> {
    await this.#runner?.idle()
  }

  /**
   * Verifies and accepts a signed instruction submitted by `submittingTenant` (id or name). The
   * request is what the instruction itself says unless `options.request` (an operator's request)
   * is given; it must match exactly. Throws the refusal as a `ResidencyError`.
   */
  async submit(
    document: unknown,
    submittingTenant: string,
    options: { readonly request?: TransferRequest } = {},
  ): Promise<TransferRecord> {
    const { directory } = this.#deps
    const signed = parseSignedInstruction(document)
    const ins = signed.instruction
    const tenant = await directory.getTenant(submittingTenant)
    const tenantId = tenant?.id ?? submittingTenant
    const key = await directory.getSigningKey(signed.keyId)
    const dataCenters = new Map<string, DataCenterFacts>()
    for (const id of [ins.source.dc, ins.destination.dc]) {
      const dc = await directory.getDataCenter(id)
      if (dc !== null) dataCenters.set(id, { status: dc.status, jurisdiction: dc.jurisdiction })
    }
    const buckets = new Map<string, BucketFacts>()
    for (const name of [ins.source.bucket, ins.destination.bucket]) {
      const b = await directory.getBucket(name)
      if (b !== null) buckets.set(name, { dc: b.dcId, tenantId: b.tenantId })
    }
    const nonceSeen = await directory.nonceUsed(ins.nonce)
    const request: TransferRequest = options.request ?? {
      tenantId,
      source: ins.source,
      destination: ins.destination,
      scope: ins.scope,
      operation: ins.operation,
    }
    const result = verifyInstruction(signed, {
      keys: (id) =>
        key === null || id !== key.keyId
          ? null
          : { publicKey: key.publicKey, tenantId: key.tenantId, revoked: key.revokedAt !== null },
      now: new Date(this.#deps.now()),
      nonceSeen: (nonce) => nonce === ins.nonce && nonceSeen,
      dataCenters: (id) => dataCenters.get(id) ?? null,
      buckets: (name) => buckets.get(name) ?? null,
      exportRules: this.#deps.exportRules,
      request,
    })
    if (!result.ok) throw result.error
    const runner = this.#runner
    runner?.hold(result.digest)
    try {
      let record: TransferRecord
      try {
        record = await directory.recordTransfer({
          id: result.digest,
          tenantId: ins.tenantId,
          keyId: signed.keyId,
          nonce: ins.nonce,
          signed: JSON.stringify(signed),
          operation: ins.operation,
          source: ins.source,
          destination: ins.destination,
        })
      } catch (err) {
        // Lost a race with a concurrent submission of the same nonce: the unique key decided.
        if (isDomainError(err, 'directory') && err.code === 'InstructionNonceUsed') {
          throw ResidencyErrors.replayed(ins.nonce)
        }
        throw err
      }
      if (runner !== null && this.#cellsOf(record) !== null) {
        // Logged in both ledgers before this returns, and before the job moves any byte. If a
        // log cannot take it, the job fails here: a refused submission never runs later.
        try {
          record = await runner.ensureLogged(record)
        } catch (err) {
          await directory.updateTransfer(record.id, {
            status: 'failed',
            error: `Cannot record the instruction in both ledgers: ${(err as Error).message}`,
            finishedAt: this.#deps.now(),
          })
          throw err
        }
        void runner.schedule(record.id)
      }
      return record
    } finally {
      runner?.release(result.digest)
    }
  }

  /**
   * The source of an S3 CopyObject/UploadPartCopy at the destination that names a submitted
   * instruction: refused unless that instruction is this tenant's, still valid, its key not
   * revoked, and covers exactly this copy (source data center, bucket and key in scope;
   * destination data center and bucket; the same key; `copy` or `move`). Logs `sent` in both
   * ledgers before returning. Null when the source object does not exist.
   */
  async openCoveredSource(copy: CoveredCopy): Promise<CoveredSource | null> {
    const { directory } = this.#deps
    const id = copy.transferId
    const t = /^[0-9a-f]{64}$/.test(id) ? await directory.getTransfer(id) : null
    if (t === null || t.tenantId !== copy.tenantId) {
      throw ResidencyErrors.transferNotCovered(
        id,
        'no instruction with that id was submitted by this tenant',
      )
    }
    if (t.operation === 'migrate') {
      throw ResidencyErrors.transferNotCovered(
        id,
        'a "migrate" instruction is run only by the transfer job',
      )
    }
    const ins = instructionOf(t)
    const key = await directory.getSigningKey(t.keyId)
    if (key === null || key.revokedAt !== null)
      throw ResidencyErrors.keyRevoked(t.keyId, t.tenantId)
    const now = this.#deps.now()
    if (now > (parseUtcTime(ins.notAfter) ?? 0) + DEFAULT_CLOCK_SKEW_MS) {
      throw ResidencyErrors.expired(ins.notAfter, new Date(now).toISOString())
    }
    if (now < (parseUtcTime(ins.notBefore) ?? 0) - DEFAULT_CLOCK_SKEW_MS) {
      throw ResidencyErrors.notYetValid(ins.notBefore, new Date(now).toISOString())
    }
    const same = (field: string, signed: string, asked: string) => {
      if (signed !== asked) {
        throw ResidencyErrors.scopeMismatch(
          field,
          `is "${asked}" but the instruction signed "${signed}"`,
        )
      }
    }
    same('source.dc', t.source.dc, copy.source.dc)
    same('source.bucket', t.source.bucket, copy.source.bucket)
    same('destination.dc', t.destination.dc, copy.destination.dc)
    same('destination.bucket', t.destination.bucket, copy.destination.bucket)
    same('key', copy.source.key, copy.destination.key)
    if (!inScope(ins.scope, copy.source.key)) {
      throw ResidencyErrors.scopeMismatch(
        'key',
        `"${copy.source.key}" is outside the instruction's scope`,
      )
    }
    const cells = this.#cellsOf(t)
    if (cells === null) throw ResidencyErrors.dataCenterUnavailable(t.source.dc)
    const record = await cells.source.meta.getObject(copy.source.bucket, copy.source.key, {
      withData: true,
    })
    if (record === null) return null
    copy.accept?.(record)
    const logged = await (this.#runner as TransferRunner).ensureLogged(t)
    const events = new TransferEvents(
      await directory.ledgerSecretOf(t.tenantId),
      logged,
      this.#deps.now,
    )
    await events.object(
      [
        { cell: cells.source, role: 'source' },
        { cell: cells.destination, role: 'destination' },
      ],
      { key: record.key, size: record.size, etag: record.etag, action: 'sent' },
    )
    return {
      record,
      read: (range) =>
        openPlaintextRange(
          cells.source,
          record,
          range,
          events.sourceRead(cells.source, {
            bucket: record.bucket,
            key: record.key,
            bytes: range === null ? record.size : range.end - range.start + 1,
          }),
        ),
    }
  }

  #cellsOf(t: TransferRecord): { source: Cell; destination: Cell } | null {
    const source = this.#deps.cellOf?.(t.source.dc)
    const destination = this.#deps.cellOf?.(t.destination.dc)
    return source === undefined || destination === undefined ? null : { source, destination }
  }
}

/** Whether an instruction's scope covers one key. */
export function inScope(scope: TransferScope, key: string): boolean {
  switch (scope.kind) {
    case 'bucket':
      return true
    case 'prefix':
      return key.startsWith(scope.prefix)
    case 'keys':
      return scope.keys.includes(key)
  }
}
