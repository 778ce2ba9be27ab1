import type { ServerResponse } from 'node:http'
import { type LedgerStorage, parseTilePath } from '../ledger/index.js'

/** What the public ledger routes need of one data center's log. */
export interface PublicLedger {
  readonly dc: string
  readonly origin: string
  readonly verifierKey: string
  readonly storage: LedgerStorage
  /**
   * The checkpoint to serve, when it is not simply the stored one: with witnesses, the newest
   * checkpoint a quorum cosigned, or undefined while there is none.
   */
  readonly checkpoint?: () => Promise<string | undefined>
}

const IMMUTABLE = 'public, max-age=31536000, immutable'

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Uint8Array,
  cache: string,
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': cache,
  })
  res.end(body)
}

/**
 * Serves `/ledger/<dc>/checkpoint`, `/ledger/<dc>/tile/…` and `/ledger/<dc>/tile/entries/…`
 * exactly as C2SP tlog-tiles lays them out: public, no authentication, tiles cacheable forever
 * (a tile path, partial ones included, always names the same bytes). Returns false when the
 * path is not a ledger path.
 */
export async function serveLedger(
  path: string,
  res: ServerResponse,
  ledgers: ReadonlyMap<string, PublicLedger>,
): Promise<boolean> {
  const m = /^\/ledger\/([^/]+)\/(.+)$/.exec(path)
  if (m === null) return false
  const [, dc = '', rest = ''] = m
  const ledger = ledgers.get(dc)
  if (ledger === undefined) {
    send(res, 404, 'text/plain', `No ledger for data center "${dc}"\n`, 'no-store')
    return true
  }
  if (rest === 'checkpoint') {
    const note = await (ledger.checkpoint?.() ?? ledger.storage.readCheckpoint())
    if (note === undefined) {
      const why = ledger.checkpoint === undefined ? '' : ' with a quorum of witness cosignatures'
      send(res, 404, 'text/plain', `No checkpoint published${why} yet\n`, 'no-store')
    } else send(res, 200, 'text/plain; charset=utf-8', note, 'no-cache')
    return true
  }
  let tile: ReturnType<typeof parseTilePath>
  try {
    tile = parseTilePath(rest)
  } catch (err) {
    send(res, 400, 'text/plain', `${(err as Error).message}\n`, 'no-store')
    return true
  }
  if (tile.index > BigInt(Number.MAX_SAFE_INTEGER)) {
    send(res, 404, 'text/plain', 'No such tile\n', 'no-store')
    return true
  }
  const index = Number(tile.index)
  const bytes =
    tile.kind === 'hashes'
      ? await ledger.storage.readTile(tile.level, index, tile.width)
      : await ledger.storage.readEntryBundle(index, tile.width)
  if (bytes === undefined) send(res, 404, 'text/plain', 'No such tile\n', 'no-store')
  else send(res, 200, 'application/octet-stream', bytes, IMMUTABLE)
  return true
}
