import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../core/index.js'
import {
  commit,
  encodeEvent,
  LEDGER_EVENT_SCHEMA,
  type LedgerEvent,
  leafHash,
  parseCheckpoint,
  parseNote,
  verifyInclusion,
} from '../ledger/index.js'
import { type CellLedger, openCellLedger } from './cell-ledger.js'
import { TenantEventsRangeError, tenantEvents } from './tenant-events.js'

const logger = createLogger('silent')
const dirs: string[] = []
const ledgers: CellLedger[] = []
afterEach(async () => {
  for (const l of ledgers.splice(0)) {
    await l.log.close()
    l.index.close()
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const secretA = Buffer.alloc(32, 1)
const secretB = Buffer.alloc(32, 2)

async function open(dir?: string): Promise<{ ledger: CellLedger; dir: string }> {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'sovra-tenant-events-'))
  if (dir === undefined) dirs.push(d)
  const ledger = await openCellLedger(d, {
    origin: 'sovra.test/ledger/us-west-1',
    batchMaxDelayMs: 1,
    maxPending: 100_000,
    logger,
  })
  ledgers.push(ledger)
  return { ledger, dir: d }
}

function put(secret: Buffer, tenant: string, bucket: string, key: string, at: string): LedgerEvent {
  const t = commit(secret, tenant)
  return {
    schema: LEDGER_EVENT_SCHEMA,
    at,
    dc: 'us-west-1',
    actor: { kind: 'tenant', tenant: t, accessKey: commit(secret, 'AK') },
    tenant: t,
    bucket: commit(secret, bucket),
    type: 'object.put',
    key: commit(secret, key),
    size: 1,
    content: commit(secret, 'etag'),
  }
}

/** 600 events (more than two entry bundles): A's in two buckets, B's interleaved. */
async function fill(ledger: CellLedger): Promise<void> {
  const appends: Promise<unknown>[] = []
  for (let i = 0; i < 600; i++) {
    const at = new Date(Date.UTC(2026, 10, 27, 10, 0, i)).toISOString()
    const event =
      i % 3 === 0
        ? put(secretB, 't-b', 'photos', `k${i}`, at)
        : put(secretA, 't-a', i % 3 === 1 ? 'photos' : 'logs', `k${i}`, at)
    appends.push(ledger.log.append(encodeEvent(event)))
  }
  await Promise.all(appends)
  await ledger.log.sync()
}

function proves(page: Awaited<ReturnType<typeof tenantEvents>>, root: Uint8Array): boolean {
  return page.events.every((e) =>
    verifyInclusion({
      index: e.index,
      size: page.treeSize,
      leafHash: leafHash(Buffer.from(e.entry, 'base64')),
      proof: e.proof.map((p) => Buffer.from(p, 'base64')),
      root,
    }),
  )
}

describe('tenantEvents()', () => {
  it("finds only the tenant's events, filtered, each with an inclusion proof against the checkpoint", async () => {
    const { ledger } = await open()
    await fill(ledger)
    const page = await tenantEvents(ledger, {
      tenantId: 't-a',
      secret: secretA,
      bucket: 'logs',
      limit: 1000,
    })
    expect(page.events).toHaveLength(200)
    expect(page.events.every((e) => e.index % 3 === 2)).toBe(true)
    expect(page.next).toBeNull()
    const checkpoint = parseCheckpoint(parseNote(page.checkpoint as string).text)
    expect(Number(checkpoint.size)).toBe(600)
    expect(proves(page, checkpoint.root)).toBe(true)

    const b = await tenantEvents(ledger, { tenantId: 't-b', secret: secretB, limit: 1000 })
    expect(b.events.map((e) => e.index)).toEqual(Array.from({ length: 200 }, (_, i) => i * 3))
    // The right id with another tenant's secret finds nothing.
    expect((await tenantEvents(ledger, { tenantId: 't-a', secret: secretB })).events).toEqual([])
  })

  it('filters by time and type, and pages with `after`', async () => {
    const { ledger } = await open()
    await fill(ledger)
    const window = {
      tenantId: 't-a',
      secret: secretA,
      from: new Date(Date.UTC(2026, 10, 27, 10, 0, 30)),
      to: new Date(Date.UTC(2026, 10, 27, 10, 0, 60)),
    }
    const all = await tenantEvents(ledger, { ...window, limit: 1000 })
    expect(all.events.map((e) => e.index)).toEqual(
      Array.from({ length: 30 }, (_, i) => 30 + i).filter((i) => i % 3 !== 0),
    )
    const first = await tenantEvents(ledger, { ...window, limit: 7 })
    expect(first.events).toHaveLength(7)
    const second = await tenantEvents(ledger, {
      ...window,
      limit: 1000,
      after: first.next as number,
    })
    expect([...first.events, ...second.events].map((e) => e.index)).toEqual(
      all.events.map((e) => e.index),
    )
    expect(
      (await tenantEvents(ledger, { tenantId: 't-a', secret: secretA, type: 'object.get' })).events,
    ).toEqual([])
  })

  it('proves against an older, named tree size and refuses one the log never had', async () => {
    const { ledger } = await open()
    await fill(ledger)
    const page = await tenantEvents(ledger, {
      tenantId: 't-a',
      secret: secretA,
      treeSize: 100,
      limit: 1000,
    })
    expect(page.checkpoint).toBeNull()
    expect(page.events.every((e) => e.index < 100)).toBe(true)
    expect(page.events).toHaveLength(66)
    await expect(
      tenantEvents(ledger, { tenantId: 't-a', secret: secretA, treeSize: 601 }),
    ).rejects.toBeInstanceOf(TenantEventsRangeError)
  })

  it('rebuilds a deleted index from the log', async () => {
    const { ledger, dir } = await open()
    await fill(ledger)
    await ledger.log.close()
    ledger.index.close()
    ledgers.pop()
    rmSync(join(dir, 'ledger-index.sqlite'))
    const { ledger: reopened } = await open(dir)
    const page = await tenantEvents(reopened, { tenantId: 't-a', secret: secretA, limit: 1000 })
    expect(page.events).toHaveLength(400)
  })
})
