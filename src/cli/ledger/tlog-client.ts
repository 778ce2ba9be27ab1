import { entriesPath, type TileFetcher, type TileRequest, tilePath } from '../../ledger/index.js'
import { LedgerCheckFailed } from './check-failed.js'

/** The part of `fetch` the ledger commands use (injectable for tests). */
export type FetchFn = (url: string) => Promise<Response>

/**
 * Reads one data center's public log as C2SP tlog-tiles serves it
 * (`<admin>/ledger/<dc>/checkpoint`, `…/tile/<L>/<N>[.p/<W>]`, `…/tile/entries/<N>[.p/<W>]`).
 * Tiles and bundles are immutable, so each is fetched at most once per run.
 */
export interface TlogReader {
  /** `<admin>/ledger/<dc>`, without a trailing slash. */
  readonly base: string
  checkpoint(): Promise<string>
  tile(level: number, index: number, width: number): Promise<Uint8Array>
  entryBundle(index: number, width: number): Promise<Uint8Array>
  /** The same tiles as a library `TileFetcher` (for `integrate`, `tileNodeFetcher`). */
  readonly getTiles: TileFetcher
}

/** At most this many tile requests are in flight at once. */
const PARALLEL = 16

export function httpTlogReader(options: { url: string; dc: string; fetch: FetchFn }): TlogReader {
  const base = `${options.url.replace(/\/+$/, '')}/ledger/${encodeURIComponent(options.dc)}`
  const cache = new Map<string, Promise<Uint8Array>>()

  async function get(path: string, what: string): Promise<Uint8Array> {
    const url = `${base}/${path}`
    let res: Response
    try {
      res = await options.fetch(url)
    } catch (err) {
      throw new Error(`Cannot fetch ${what} from ${url}: ${(err as Error).message}`)
    }
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined)
      throw new LedgerCheckFailed(`${what} is missing: ${url} answered 404`)
    }
    if (!res.ok) {
      throw new Error(`Cannot fetch ${what}: ${url} answered ${res.status} ${res.statusText}`)
    }
    return new Uint8Array(await res.arrayBuffer())
  }

  function cached(path: string, what: string): Promise<Uint8Array> {
    let p = cache.get(path)
    if (p === undefined) {
      p = get(path, what)
      cache.set(path, p)
      p.catch(() => cache.delete(path))
    }
    return p
  }

  const reader: TlogReader = {
    base,
    async checkpoint() {
      return new TextDecoder().decode(await get('checkpoint', 'the checkpoint'))
    },
    tile(level, index, width) {
      const path = tilePath(level, index, width)
      return cached(path, `tile ${path.slice('tile/'.length)}`)
    },
    entryBundle(index, width) {
      const path = entriesPath(index, width)
      return cached(path, `entry bundle ${path.slice('tile/entries/'.length)}`)
    },
    getTiles: (requests: readonly TileRequest[]) =>
      mapLimit(requests, PARALLEL, (r) => reader.tile(r.level, r.index, r.width)),
  }
  return reader
}

/** The verifier keys the admin API publishes (`GET /admin/v1/ledger/keys`). */
export interface PublishedLedgerKey {
  readonly dc: string
  readonly origin: string
  readonly verifierKey: string
}

/** Fetches `/admin/v1/ledger/keys` and returns the entry of `dc`. */
export async function fetchLedgerKey(options: {
  url: string
  dc: string
  fetch: FetchFn
}): Promise<PublishedLedgerKey> {
  const url = `${options.url.replace(/\/+$/, '')}/admin/v1/ledger/keys`
  const res = await options.fetch(url)
  if (!res.ok) throw new Error(`Cannot fetch the ledger keys: ${url} answered ${res.status}`)
  const body = (await res.json()) as { ledgers?: PublishedLedgerKey[] }
  const found = body.ledgers?.find((l) => l.dc === options.dc)
  if (found === undefined) {
    const known = (body.ledgers ?? []).map((l) => l.dc).join(', ')
    throw new Error(`The server has no ledger for data center "${options.dc}" (it has: ${known})`)
  }
  return found
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T, i)
    }
  })
  await Promise.all(workers)
  return out
}
