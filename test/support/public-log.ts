import { decodeEntryBundle, decodeEvent, type LedgerEvent } from '../../src/ledger/index.js'

/**
 * Every event of one public log (`dc`: a data center id or `directory`), read as an auditor
 * would: the checkpoint's size, then each entry bundle from the admin port.
 */
export async function publicEvents(admin: string, dc: string): Promise<LedgerEvent[]> {
  const res = await fetch(`${admin}/ledger/${dc}/checkpoint`)
  if (!res.ok) return []
  const size = Number((await res.text()).split('\n')[1])
  const events: LedgerEvent[] = []
  for (let n = 0; n * 256 < size; n++) {
    const width = Math.min(256, size - n * 256)
    const path = `tile/entries/${String(n).padStart(3, '0')}${width < 256 ? `.p/${width}` : ''}`
    const bundle = await fetch(`${admin}/ledger/${dc}/${path}`)
    if (!bundle.ok) throw new Error(`GET /ledger/${dc}/${path}: ${bundle.status}`)
    for (const entry of decodeEntryBundle(new Uint8Array(await bundle.arrayBuffer())))
      events.push(decodeEvent(entry))
  }
  return events
}
