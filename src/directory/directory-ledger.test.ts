import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../core/index.js'
import {
  commit,
  decodeEvent,
  ed25519Signer,
  FsLedgerStorage,
  formatSignerKey,
  type LedgerEvent,
  openLog,
  type TransparencyLog,
} from '../ledger/index.js'
import type { DataCenterInput, Directory } from './directory.js'
import { startDirectoryLedger } from './directory-ledger.js'
import { openDirectory } from './sqlite-directory.js'

const ORIGIN = 'sovra.test/ledger/directory'
const logger = createLogger('silent')
const dirs: string[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sovra-directory-ledger-'))
  dirs.push(dir)
  return dir
}

async function openTestLog(dir: string): Promise<TransparencyLog> {
  const log = await openLog({
    storage: await FsLedgerStorage.open(join(dir, 'ledger')),
    signer: ed25519Signer(formatSignerKey(ORIGIN, new Uint8Array(32).fill(3))),
    origin: ORIGIN,
    batchMaxSize: 64,
    batchMaxDelayMs: 1,
    maxPending: 10_000,
  })
  return log
}

async function openTestDirectory(dataDir: string): Promise<Directory> {
  const directory = await openDirectory({ dataDir })
  return directory
}

async function loggedEvents(log: TransparencyLog): Promise<LedgerEvent[]> {
  const size = Number((await log.sync()).checkpoint.size)
  const events: LedgerEvent[] = []
  for (let i = 0; i < size; i++) events.push(decodeEvent(await log.readEntry(i)))
  return events
}

const dc: DataCenterInput = {
  id: 'us-west-1',
  name: 'US West',
  city: 'Silicon Valley',
  jurisdiction: 'US',
  status: 'active',
  port: 9002,
}

describe('the directory outbox', () => {
  it('records catalog, tenant and key changes as events, committing customer values', async () => {
    const directory = await openTestDirectory(tempDir())
    cleanups.push(() => directory.close())
    await directory.syncDataCenters([dc])
    await directory.syncDataCenters([dc]) // unchanged: nothing new
    await directory.syncDataCenters([{ ...dc, status: 'draining' }])
    const tenant = await directory.createTenant({ name: 'acme' })
    const key = await directory.createAccessKey('acme')
    await directory.revokeAccessKey(key.accessKeyId)
    await directory.revokeAccessKey(key.accessKeyId) // already revoked: nothing new

    const events = (await directory.readLedgerOutbox(100)).map((e) => decodeEvent(e.entry))
    expect(events.map((e) => e.type)).toEqual([
      'dc.change',
      'dc.change',
      'tenant.change',
      'key.change',
      'key.change',
    ])
    expect(events[0]).toMatchObject({ dc: 'directory', target: 'us-west-1', change: 'added' })
    expect(events[1]).toMatchObject({ change: 'status', status: 'draining', jurisdiction: 'US' })
    const secret = await directory.ledgerSecretOf(tenant.id)
    expect(events[2]).toMatchObject({ change: 'created', tenant: commit(secret, tenant.id) })
    expect(events[3]).toMatchObject({
      keyKind: 'access-key',
      change: 'created',
      key: commit(secret, key.accessKeyId),
    })
    expect(events[4]).toMatchObject({ change: 'revoked', key: commit(secret, key.accessKeyId) })
    // Nothing customer-identifying in clear.
    const raw = Buffer.concat(
      (await directory.readLedgerOutbox(100)).map((e) => Buffer.from(e.entry)),
    ).toString()
    expect(raw).not.toContain(tenant.id)
    expect(raw).not.toContain('acme')
    expect(raw).not.toContain(key.accessKeyId)
  })

  it('writes no event for a change that fails', async () => {
    const directory = await openTestDirectory(tempDir())
    cleanups.push(() => directory.close())
    await directory.createTenant({ name: 'acme' })
    await expect(directory.createTenant({ name: 'acme' })).rejects.toThrow()
    await expect(
      directory.createAccessKey('acme', { accessKeyId: 'AKIA', secretAccessKey: 'x' }),
    ).rejects.toThrow()
    expect(await directory.readLedgerOutbox(100)).toHaveLength(1)
  })
})

describe('startDirectoryLedger()', () => {
  it('moves outbox events into the log in order and empties the outbox', async () => {
    const dataDir = tempDir()
    const directory = await openTestDirectory(dataDir)
    cleanups.push(() => directory.close())
    const log = await openTestLog(dataDir)
    cleanups.push(() => log.close())
    const drain = await startDirectoryLedger(directory, log, { logger, intervalMs: 10 })
    cleanups.push(() => drain.stop())
    await directory.syncDataCenters([dc])
    await directory.createTenant({ name: 'acme' })
    await drain.flush()
    expect((await loggedEvents(log)).map((e) => e.type)).toEqual(['dc.change', 'tenant.change'])
    expect(await directory.readLedgerOutbox(10)).toEqual([])
  })

  it('picks up changes another process made (the CLI) by polling', async () => {
    const dataDir = tempDir()
    const directory = await openTestDirectory(dataDir)
    cleanups.push(() => directory.close())
    const log = await openTestLog(dataDir)
    cleanups.push(() => log.close())
    const drain = await startDirectoryLedger(directory, log, { logger, intervalMs: 10 })
    cleanups.push(() => drain.stop())
    const cli = await openTestDirectory(dataDir)
    await cli.createTenant({ name: 'from-cli' })
    await cli.close()
    await expect
      .poll(async () => (await loggedEvents(log)).map((e) => e.type), { timeout: 5_000 })
      .toEqual(['tenant.change'])
  })

  it('logs each event exactly once after a crash between the append and the acknowledgement', async () => {
    const dataDir = tempDir()
    const directory = await openTestDirectory(dataDir)
    cleanups.push(() => directory.close())
    await directory.createTenant({ name: 'one' })
    await directory.createTenant({ name: 'two' })
    // The crash: the log sequenced the outbox, the outbox never heard of it.
    const log = await openTestLog(dataDir)
    for (const e of await directory.readLedgerOutbox(10)) await log.append(e.entry)
    await log.close()
    await directory.createTenant({ name: 'three' })

    const reopened = await openTestLog(dataDir)
    cleanups.push(() => reopened.close())
    const drain = await startDirectoryLedger(directory, reopened, { logger, intervalMs: 10 })
    await drain.stop()
    const events = await loggedEvents(reopened)
    expect(events).toHaveLength(3)
    const secrets = await Promise.all(
      (await directory.listTenants()).map(async (t) => ({
        name: t.name,
        c: commit(await directory.ledgerSecretOf(t.id), t.id),
      })),
    )
    const names = events.map(
      (e) => secrets.find((s) => s.c === (e as { tenant: string }).tenant)?.name,
    )
    expect(names).toEqual(['one', 'two', 'three'])
  })
})
