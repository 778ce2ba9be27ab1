import { type Cell, ledgerReceipt } from '../../cell/index.js'
import type { TransferRecord } from '../../directory/index.js'
import type { ReceiptSource } from '../../keys/index.js'
import {
  commit,
  encodeEvent,
  LEDGER_EVENT_SCHEMA,
  type ObjectGetEvent,
  type TransferFinishEvent,
  type TransferInstructionEvent,
  type TransferObjectEvent,
} from '../../ledger/index.js'
import type { TransferInstruction } from './instruction.js'

const BASE = { schema: LEDGER_EVENT_SCHEMA } as const

/** The transfer gate acts with the customer's signed authority, not an access key. */
const ACTOR = { kind: 'system', component: 'transfer-gate' } as const

/** Builds and appends the gate's ledger events; every append is awaited (durably sequenced). */
export class TransferEvents {
  readonly #secret: Buffer
  readonly #transfer: TransferRecord
  readonly #now: () => number

  constructor(secret: Buffer, transfer: TransferRecord, now: () => number) {
    this.#secret = secret
    this.#transfer = transfer
    this.#now = now
  }

  /** `transfer.instruction` in both ledgers, source first; resolves once both are durable. */
  async instruction(
    cells: { source: Cell; destination: Cell },
    instruction: TransferInstruction,
  ): Promise<void> {
    const c = (v: string) => commit(this.#secret, v)
    const body = (cell: Cell, role: 'source' | 'destination'): TransferInstructionEvent => ({
      ...this.#base(cell, role),
      type: 'transfer.instruction',
      signingKey: c(this.#transfer.keyId),
      operation: instruction.operation,
      sourceDc: instruction.source.dc,
      destinationDc: instruction.destination.dc,
      sourceBucket: c(instruction.source.bucket),
      destinationBucket: c(instruction.destination.bucket),
      scope: instruction.scope.kind,
      notAfter: instruction.notAfter,
      ...(instruction.legalBasis === undefined
        ? {}
        : { legalBasis: c(`${instruction.legalBasis.kind}:${instruction.legalBasis.reference}`) }),
    })
    await Promise.all([
      cells.source.ledger.log.append(encodeEvent(body(cells.source, 'source'))),
      cells.destination.ledger.log.append(encodeEvent(body(cells.destination, 'destination'))),
    ])
  }

  /** `transfer.object` in the given ledgers. */
  async object(
    cells: ReadonlyArray<{ cell: Cell; role: 'source' | 'destination' }>,
    object: { key: string; size: number; etag: string; action: TransferObjectEvent['action'] },
  ): Promise<void> {
    await Promise.all(
      cells.map(({ cell, role }) => {
        const event: TransferObjectEvent = {
          ...this.#base(cell, role),
          type: 'transfer.object',
          key: commit(this.#secret, object.key),
          action: object.action,
          size: object.size,
          content: commit(this.#secret, object.etag),
        }
        return cell.ledger.log.append(encodeEvent(event))
      }),
    )
  }

  /** `transfer.finish` in both ledgers. */
  async finish(
    cells: { source: Cell; destination: Cell },
    outcome: Pick<TransferFinishEvent, 'status' | 'objects' | 'bytes' | 'missing' | 'homeMoved'>,
  ): Promise<void> {
    const event = (cell: Cell, role: 'source' | 'destination'): TransferFinishEvent => ({
      ...this.#base(cell, role),
      type: 'transfer.finish',
      status: outcome.status,
      objects: outcome.objects,
      bytes: outcome.bytes,
      missing: outcome.missing,
      ...(outcome.homeMoved === undefined ? {} : { homeMoved: outcome.homeMoved }),
    })
    await Promise.all([
      cells.source.ledger.log.append(encodeEvent(event(cells.source, 'source'))),
      cells.destination.ledger.log.append(encodeEvent(event(cells.destination, 'destination'))),
    ])
  }

  /**
   * Log-before-decrypt for the gate's read of a source object: when (and only when) a customer
   * key service must unwrap the object's data key, an `object.get` of it (actor: the gate) is
   * appended durably to the source's ledger, and its receipt goes with the unwrap.
   */
  sourceRead(
    cell: Cell,
    object: { readonly bucket: string; readonly key: string; readonly bytes: number },
  ): ReceiptSource {
    return async () => {
      const event: ObjectGetEvent = {
        ...BASE,
        type: 'object.get',
        at: new Date(this.#now()).toISOString(),
        dc: cell.dc.id,
        actor: ACTOR,
        tenant: commit(this.#secret, this.#transfer.tenantId),
        bucket: commit(this.#secret, object.bucket),
        key: commit(this.#secret, object.key),
        bytes: object.bytes,
      }
      const { index } = await cell.ledger.log.append(encodeEvent(event))
      return ledgerReceipt(cell.ledger, index)
    }
  }

  #base(cell: Cell, role: 'source' | 'destination') {
    return {
      ...BASE,
      at: new Date(this.#now()).toISOString(),
      dc: cell.dc.id,
      actor: ACTOR,
      tenant: commit(this.#secret, this.#transfer.tenantId),
      transfer: commit(this.#secret, this.#transfer.id),
      role,
    }
  }
}
