// `sovra keyd serve` as a customer runs it: a child process running the CLI entry point (through
// tsx, so no build is needed), with log-before-decrypt on, driven by Sovra's VaultTransitProvider
// whose receipts come from real cell ledgers (one per data center, in temp folders). The admin
// commands (`sovra keyd key …`) run through the CLI against that process. The KeyProvider
// contract suite runs against it too.
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type CellLedger, ledgerReceipt, openCellLedger } from '../../src/cell/index.js'
import { runCli } from '../../src/cli/index.js'
import { createLogger } from '../../src/core/index.js'
import {
  isKeyError,
  type KeyContext,
  type KeyErrorCode,
  VaultTransitProvider,
} from '../../src/keys/index.js'
import { runKeyProviderContract } from '../../src/keys/key-provider.contract.js'
import { commit, encodeEvent, type LedgerEvent } from '../../src/ledger/index.js'
import { spawnKeyd } from '../support/keyd-process.js'
import { tempDir } from '../support/tmp.js'

const SECRET = randomBytes(32)
const TOKENS = {
  admin: 'keyd-admin-token-0001',
  'dc-a': 'keyd-dc-a-token-00001',
  'dc-b': 'keyd-dc-b-token-00001',
} as const
const logger = createLogger('silent')

interface Running {
  readonly url: string
  readonly child: ChildProcess
  readonly ledgers: ReadonlyMap<string, CellLedger>
  readonly auditLogPath: string
}

const state = tempDir('sovra-keyd-cli-')
let running: Promise<Running> | undefined
afterAll(async () => {
  const r = await running
  if (r !== undefined) {
    r.child.kill('SIGTERM')
    for (const l of r.ledgers.values()) {
      await l.log.close()
      l.index.close()
    }
  }
  state.remove()
})

/** Starts (once) two data-center ledgers and a keyd process allowing them, receipts required. */
function keyd(): Promise<Running> {
  running ??= (async () => {
    const ledgers = new Map<string, CellLedger>()
    for (const dc of ['dc-a', 'dc-b']) {
      ledgers.set(
        dc,
        await openCellLedger(join(state.path, dc), {
          origin: `sovra.test/ledger/${dc}`,
          batchMaxDelayMs: 1,
          maxPending: 10_000,
          logger,
        }),
      )
    }
    const file = join(state.path, 'keyd.json')
    writeFileSync(
      file,
      JSON.stringify({
        listen: { host: '127.0.0.1', port: 0 },
        stateDir: 'keyd-state',
        tokens: {
          admin: TOKENS.admin,
          dataCenters: { 'dc-a': TOKENS['dc-a'], 'dc-b': TOKENS['dc-b'] },
        },
        dataCenters: [...ledgers.values()].map((l) => ({ ledgerKey: l.verifierKey })),
        logBeforeDecrypt: {
          enabled: true,
          maxCheckpointAgeSeconds: 30,
          tenantSecret: SECRET.toString('base64'),
        },
      }),
      { mode: 0o600 },
    )
    const { url, child, output } = await spawnKeyd(file)
    expect(output()).toContain('Log-before-decrypt: on, events at most 30 s old')
    expect(await admin(url, ['create', 'sovra'])).toMatchObject({ code: 0 })
    return { url, child, ledgers, auditLogPath: join(state.path, 'keyd-state', 'audit.jsonl') }
  })()
  return running
}

/** Runs `sovra keyd key <args>` with the admin token in the environment. */
async function admin(url: string, args: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const sink = { write: (c: string) => (out += c) }
  const code = await runCli(['keyd', 'key', ...args, '--address', url], {
    stdout: sink,
    stderr: sink,
    env: { SOVRA_KEYD_TOKEN: TOKENS.admin },
  })
  return { code, out }
}

/** Appends a real `object.get` of `bucket` to the data center's ledger; returns its receipt. */
async function logGet(
  ledgers: ReadonlyMap<string, CellLedger>,
  context: KeyContext,
  options: { bucket?: string; at?: Date } = {},
): Promise<string> {
  const ledger = ledgers.get(context.dc)
  if (ledger === undefined) throw new Error(`no ledger for "${context.dc}"`)
  const event: LedgerEvent = {
    schema: 1,
    type: 'object.get',
    at: (options.at ?? new Date()).toISOString(),
    dc: context.dc,
    actor: { kind: 'tenant', tenant: commit(SECRET, 't1'), accessKey: commit(SECRET, 'AK1') },
    tenant: commit(SECRET, 't1'),
    bucket: commit(SECRET, options.bucket ?? context.bucket),
    key: commit(SECRET, 'some/object'),
    bytes: 1,
  }
  const { index } = await ledger.log.append(encodeEvent(event))
  return ledgerReceipt(ledger, index)
}

function provider(
  r: Running,
  dc: 'dc-a' | 'dc-b',
  receiptFor?: (context: KeyContext) => Promise<string | undefined>,
  keyName = 'sovra',
): VaultTransitProvider {
  return new VaultTransitProvider(
    { address: r.url, keyName, token: TOKENS[dc], cacheTtlMs: 0 },
    receiptFor === undefined ? {} : { receiptFor },
  )
}

async function refusal(
  promise: Promise<unknown>,
): Promise<{ code: KeyErrorCode; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isKeyError(err)) throw new Error(`Expected a KeyError: got ${String(err)}`)
  return { code: err.code, message: err.message }
}

function audit(r: Running): Array<Record<string, unknown>> {
  return readFileSync(r.auditLogPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

// The shared suite, against the real process, each unwrap carrying a fresh receipt.
for (const cacheTtlMs of [0, 60_000]) {
  runKeyProviderContract({
    name: `vault-transit against a spawned \`sovra keyd serve\` with log-before-decrypt (cache ${cacheTtlMs === 0 ? 'off' : 'on'})`,
    open: async (dc) => {
      const r = await keyd()
      return new VaultTransitProvider(
        { address: r.url, keyName: 'sovra', token: TOKENS[dc as 'dc-a'], cacheTtlMs },
        { receiptFor: (context) => logGet(r.ledgers, context) },
      )
    },
  })
}

describe('sovra keyd serve (a real process) with log-before-decrypt', () => {
  const ctx: KeyContext = { dc: 'dc-a', bucket: 'photos' }

  it('unwraps with the receipt of a logged read, and refuses without one', async () => {
    const r = await keyd()
    const withReceipts = provider(r, 'dc-a', (context) => logGet(r.ledgers, context))
    const dek = randomBytes(32)
    const wrapped = await withReceipts.wrap(dek, ctx)
    expect((await withReceipts.unwrap(wrapped, ctx)).equals(dek)).toBe(true)

    const without = await refusal(provider(r, 'dc-a').unwrap(wrapped, ctx))
    expect(without.code).toBe('KeyAccessDenied')
    expect(without.message).toContain('carries no ledger receipt')

    // The receipt of a read of another bucket does not open this bucket's key.
    const otherBucket = provider(r, 'dc-a', (context) =>
      logGet(r.ledgers, context, { bucket: 'not-photos' }),
    )
    expect((await refusal(otherBucket.unwrap(wrapped, ctx))).message).toContain(
      'the event is for another bucket',
    )
    // dc-b's genuine receipt does not verify against dc-a's ledger key.
    const borrowed = provider(r, 'dc-a', () => logGet(r.ledgers, { dc: 'dc-b', bucket: 'photos' }))
    expect((await refusal(borrowed.unwrap(wrapped, ctx))).message).toContain(
      'the ledger receipt does not verify',
    )
    // An old logged read is not fresh enough.
    const stale = provider(r, 'dc-a', (context) =>
      logGet(r.ledgers, context, { at: new Date(Date.now() - 120_000) }),
    )
    expect((await refusal(stale.unwrap(wrapped, ctx))).message).toMatch(/older than 30 s/)

    const decisions = audit(r).filter((l) => l.op === 'decrypt' && l.bucket === 'photos')
    expect(decisions.slice(-5).map((l) => [l.outcome, l.status])).toEqual([
      ['ok', 200],
      ['denied', 403],
      ['denied', 403],
      ['denied', 403],
      ['denied', 403],
    ])
    expect(String(decisions.at(-4)?.reason)).toContain('carries no ledger receipt')
    expect(String(decisions.at(-1)?.reason)).toMatch(/older than 30 s/)
    // Receipts are not secrets, but the audit log holds only decisions, never the receipt itself.
    expect(readFileSync(r.auditLogPath, 'utf8')).not.toContain('c2sp.org/tlog-proof')
  })

  it('a cached data key needs no receipt; a cold one does', async () => {
    const r = await keyd()
    let asked = 0
    const cached = new VaultTransitProvider(
      { address: r.url, keyName: 'sovra', token: TOKENS['dc-a'], cacheTtlMs: 60_000 },
      {
        receiptFor: (context) => {
          asked++
          return logGet(r.ledgers, context)
        },
      },
    )
    const dek = randomBytes(32)
    const wrapped = await provider(r, 'dc-a').wrap(dek, ctx)
    expect((await cached.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
    expect((await cached.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
    expect(asked).toBe(1)
  })

  it('after `sovra keyd key disable`, unwraps fail with KeyDisabled and each refusal is audited', async () => {
    const r = await keyd()
    expect((await admin(r.url, ['create', 'revocable'])).code).toBe(0)
    const p = provider(r, 'dc-a', (context) => logGet(r.ledgers, context), 'revocable')
    const dek = randomBytes(32)
    const wrapped = await p.wrap(dek, ctx)
    expect((await p.unwrap(wrapped, ctx)).equals(dek)).toBe(true)

    const disabled = await admin(r.url, ['disable', 'revocable'])
    expect(disabled).toMatchObject({ code: 0 })
    expect(disabled.out).toContain('Revoked key revocable')
    for (let i = 0; i < 2; i++) {
      const refused = await refusal(p.unwrap(wrapped, ctx))
      expect(refused.code).toBe('KeyDisabled')
      expect(refused.message).toContain('disallowed by policy')
    }
    // New data keys (wrapped under the new version) still work: revocation is of the past.
    const fresh = randomBytes(32)
    expect((await p.unwrap(await p.wrap(fresh, ctx), ctx)).equals(fresh)).toBe(true)

    const lines = audit(r).filter((l) => l.key === 'revocable')
    expect(lines.map((l) => [l.op, l.outcome])).toEqual([
      ['create-key', 'ok'],
      ['read-key', 'ok'],
      ['encrypt', 'ok'],
      ['decrypt', 'ok'],
      ['rotate-key', 'ok'],
      ['read-key', 'ok'],
      ['config-key', 'ok'],
      ['read-key', 'ok'],
      ['decrypt', 'error'],
      ['decrypt', 'error'],
      ['encrypt', 'ok'],
      ['decrypt', 'ok'],
    ])
    expect(String(lines[8]?.reason)).toContain('disallowed by policy')

    const listed = await admin(r.url, ['list', '--json'])
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.out)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'revocable', latestVersion: 2, minDecryptionVersion: 2 }),
        expect.objectContaining({ name: 'sovra' }),
      ]),
    )
  })

  it('rewrap moves a data key to the rotated version inside keyd, without a receipt; unwrap still needs one', async () => {
    const r = await keyd()
    expect((await admin(r.url, ['create', 'rotated'])).code).toBe(0)
    const p = provider(r, 'dc-a', (context) => logGet(r.ledgers, context), 'rotated')
    const noReceipts = provider(r, 'dc-a', undefined, 'rotated')
    const dek = randomBytes(32)
    const old = await p.wrap(dek, ctx)
    // A data center's token cannot rotate the customer's key; the customer does.
    expect((await refusal(p.rotate(ctx))).code).toBe('KeyAccessDenied')
    expect((await admin(r.url, ['rotate', 'rotated'])).code).toBe(0)
    // Re-wrapping releases no key, so log-before-decrypt asks for no receipt.
    const rewrapped = await noReceipts.rewrap(old, ctx)
    expect(noReceipts.keyVersionOf(rewrapped)).toBe(2)
    expect(rewrapped).not.toBe(old)
    expect((await refusal(noReceipts.unwrap(rewrapped, ctx))).code).toBe('KeyAccessDenied')
    expect((await p.unwrap(rewrapped, ctx)).equals(dek)).toBe(true)
    // Bound to its context: another bucket's context cannot rewrap it.
    expect((await refusal(noReceipts.rewrap(old, { ...ctx, bucket: 'other' }))).code).toBe(
      'InvalidWrappedKey',
    )
    const rewraps = audit(r).filter((l) => l.key === 'rotated' && l.op === 'rewrap')
    expect(rewraps.map((l) => [l.outcome, l.keyVersion, l.dc, l.bucket])).toEqual([
      ['ok', 2, 'dc-a', 'photos'],
      ['error', undefined, 'dc-a', 'other'],
    ])
  })

  it('admin commands need the admin token and name the refusal', async () => {
    const r = await keyd()
    let out = ''
    const sink = { write: (c: string) => (out += c) }
    const code = await runCli(['keyd', 'key', 'rotate', 'sovra', '--address', r.url], {
      stdout: sink,
      stderr: sink,
      env: { SOVRA_KEYD_TOKEN: TOKENS['dc-a'] },
    })
    expect(code).toBe(1)
    expect(out).toContain('HTTP 403')
    const rotated = await admin(r.url, ['rotate', 'nonexistent'])
    expect(rotated.code).toBe(1)
    expect(rotated.out).toContain('encryption key not found')
  })

  it('refuses to start on a bad configuration file, naming the key', async () => {
    const bad = join(state.path, 'bad-keyd.json')
    writeFileSync(
      bad,
      JSON.stringify({
        stateDir: 'x',
        tokens: { admin: TOKENS.admin, dataCenters: {} },
        dataCenters: [{ ledgerKey: 'sovra.test/ledger/dc-a+00000000+AQ==' }],
        logBeforeDecrypt: { enabled: true },
      }),
    )
    let out = ''
    const sink = { write: (c: string) => (out += c) }
    const code = await runCli(['keyd', 'serve', '--config', bad], {
      stdout: sink,
      stderr: sink,
      env: {},
    })
    expect(code).toBe(1)
    expect(out).toContain('at "logBeforeDecrypt.tenantSecret": tenantSecret is required')
    // A ledger key that passes the file's shape check but is not a valid key stops keyd too.
    writeFileSync(
      bad,
      JSON.stringify({
        stateDir: 'x',
        tokens: { admin: TOKENS.admin, dataCenters: {} },
        dataCenters: [{ ledgerKey: 'sovra.test/ledger/dc-a+00000000+AQ==' }],
      }),
    )
    out = ''
    expect(
      await runCli(['keyd', 'serve', '--config', bad], { stdout: sink, stderr: sink, env: {} }),
    ).toBe(1)
    expect(out).toContain('Cannot use the ledger key of "dc-a"')
  })
})
