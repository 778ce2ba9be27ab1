import { commit, decodeEvent, type LedgerEvent } from '../ledger/index.js'
import type { CellLedger } from './cell-ledger.js'

/** Filters of a tenant's request for its own events. */
export interface TenantEventsRequest {
  readonly tenantId: string
  /** The tenant's ledger secret: its commitments are computed here, never sent in clear. */
  readonly secret: Uint8Array
  readonly bucket?: string
  readonly type?: string
  /** RFC 3339 bounds on the event time: `from` ≤ at < `to`. */
  readonly from?: Date
  readonly to?: Date
  /** Size of the named checkpoint the proofs are against; default the latest. */
  readonly treeSize?: number
  /** Paging: only entries after this index. */
  readonly after?: number
  /** At most this many events (1…1000, default 100). */
  readonly limit?: number
}

/** One of the tenant's events with what proves it is in the log. */
export interface ProvenEvent {
  readonly index: number
  readonly event: LedgerEvent
  /** The entry bytes (the leaf), base64: hash them to check the proof. */
  readonly entry: string
  /** RFC 6962 inclusion proof against `treeSize`, base64 hashes, leaf to root. */
  readonly proof: readonly string[]
}

/** The answer: events, the tree they are proven against, and where the next page starts. */
export interface TenantEventsPage {
  readonly treeSize: number
  /** The signed checkpoint note of `treeSize` when it is the latest one, else null. */
  readonly checkpoint: string | null
  readonly events: readonly ProvenEvent[]
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly next: number | null
}

/** Thrown for a request the log cannot answer (a tree size it never had). */
export class TenantEventsRangeError extends RangeError {}

export const MAX_EVENTS_PAGE = 1000

/** Finds a tenant's events in one log and proves each against the named (or latest) tree. */
export async function tenantEvents(
  ledger: CellLedger,
  request: TenantEventsRequest,
): Promise<TenantEventsPage> {
  const latest = ledger.log.checkpoint()
  const latestSize = Number(latest.checkpoint.size)
  const treeSize = request.treeSize ?? latestSize
  if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > latestSize) {
    throw new TenantEventsRangeError(
      `The log has no checkpoint of size ${treeSize}: its latest is ${latestSize}`,
    )
  }
  const limit = Math.min(Math.max(request.limit ?? 100, 1), MAX_EVENTS_PAGE)
  const found = await ledger.index.find({
    tenant: commit(request.secret, request.tenantId),
    ...(request.bucket === undefined ? {} : { bucket: commit(request.secret, request.bucket) }),
    ...(request.type === undefined ? {} : { type: request.type }),
    ...(request.from === undefined ? {} : { from: request.from.toISOString() }),
    ...(request.to === undefined ? {} : { to: request.to.toISOString() }),
    ...(request.after === undefined ? {} : { after: request.after }),
    treeSize,
    limit: limit + 1,
  })
  const page = found.slice(0, limit)
  const events: ProvenEvent[] = []
  for (const f of page) {
    const proof = await ledger.log.inclusionProof(f.index, treeSize)
    events.push({
      index: f.index,
      event: decodeEvent(f.entry),
      entry: Buffer.from(f.entry).toString('base64'),
      proof: proof.map((h) => Buffer.from(h).toString('base64')),
    })
  }
  return {
    treeSize,
    checkpoint: treeSize === latestSize ? latest.note : null,
    events,
    next: found.length > limit ? (page[page.length - 1] as { index: number }).index : null,
  }
}
