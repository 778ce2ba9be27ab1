// The log-before-decrypt authorizer as `sovra keyd serve` composes it: keys/'s
// ledgerReceiptAuthorizer with ledger/'s openEntryReceipt (the two may not import each other, so
// this test lives with the face that joins them). Receipts are built from real signed checkpoints
// and inclusion proofs.
import { describe, expect, it } from 'vitest'
import { parseKeydFile, type UnwrapRequest } from '../../keys/index.js'
import {
  commit,
  cosignatureSigner,
  ed25519Signer,
  encodeEvent,
  formatCheckpoint,
  formatEntryReceipt,
  formatSignerKey,
  formatTlogProof,
  inclusionProof,
  type LedgerEvent,
  leafHash,
  memoryNodeFetcher,
  parseSignerKey,
  parseTlogProof,
  rootFromLeafHashes,
  signNote,
} from '../../ledger/index.js'
import { keydAuthorizer } from './keyd.js'

const SECRET = new Uint8Array(32).fill(7)
const NOW = new Date('2026-11-27T20:00:00.000Z')
const origin = (dc: string) => `sovra.test/ledger/${dc}`
const skey = (dc: string, fill: number) =>
  formatSignerKey(origin(dc), new Uint8Array(32).fill(fill))
const USW1 = skey('us-west-1', 1)
const DCA = skey('dc-a', 2)
const IMPOSTOR = skey('us-west-1', 3) // same origin, another key
const witness = (time: Date) =>
  cosignatureSigner({
    name: 'witness.test/w1',
    seed: new Uint8Array(32).fill(9),
    now: () => Math.floor(time.getTime() / 1000),
  })

function getEvent(overrides: Partial<Record<string, unknown>> = {}): LedgerEvent {
  return {
    schema: 1,
    type: 'object.get',
    at: new Date(NOW.getTime() - 2_000).toISOString(),
    dc: 'us-west-1',
    actor: { kind: 'tenant', tenant: commit(SECRET, 't1'), accessKey: commit(SECRET, 'AK') },
    tenant: commit(SECRET, 't1'),
    bucket: commit(SECRET, 'photos'),
    key: commit(SECRET, 'cat.jpg'),
    bytes: 10,
    ...overrides,
  } as LedgerEvent
}

/** A log of `events` (plus filler) signed with `signerKey`; the receipt of entry `at`. */
async function receipt(
  events: readonly LedgerEvent[],
  options: { signerKey?: string; at?: number; cosignedAt?: Date } = {},
): Promise<string> {
  const entries = [new TextEncoder().encode('filler'), ...events.map(encodeEvent)]
  const leaves = entries.map((e) => leafHash(e))
  const signerKey = options.signerKey ?? USW1
  const body = formatCheckpoint({
    origin: parseSignerKey(signerKey).name,
    size: BigInt(entries.length),
    root: rootFromLeafHashes(leaves),
    extensions: [],
  })
  const signers = [ed25519Signer(signerKey)]
  if (options.cosignedAt !== undefined) signers.push(witness(options.cosignedAt))
  const index = options.at ?? 1
  return formatEntryReceipt({
    entry: entries[index] as Uint8Array,
    index: BigInt(index),
    proof: await inclusionProof({
      index,
      size: entries.length,
      getNodes: memoryNodeFetcher(leaves),
    }),
    checkpoint: signNote(body, signers),
  })
}

function authorizer(extra: { witnessKeys?: string[]; maxAge?: number } = {}) {
  const settings = parseKeydFile(
    {
      stateDir: '/tmp/unused',
      tokens: { admin: 'a'.repeat(16), dataCenters: { 'us-west-1': 'b'.repeat(16) } },
      dataCenters: [
        { ledgerKey: parseSignerKey(USW1).vkey },
        { ledgerKey: parseSignerKey(DCA).vkey },
      ],
      logBeforeDecrypt: {
        enabled: true,
        maxCheckpointAgeSeconds: extra.maxAge ?? 30,
        tenantSecret: Buffer.from(SECRET).toString('base64'),
        witnessKeys: extra.witnessKeys ?? [],
      },
    },
    '/tmp/keyd.json',
  )
  return keydAuthorizer(settings, { now: () => NOW })
}

const request = (r: string | undefined, over: Partial<UnwrapRequest> = {}): UnwrapRequest => ({
  requestId: 'r1',
  keyName: 'sovra',
  keyVersion: 1,
  context: { dc: 'us-west-1', bucket: 'photos' },
  clientDc: 'us-west-1',
  receipt: r,
  ...over,
})

async function reasonFor(r: string | undefined, over: Partial<UnwrapRequest> = {}) {
  const decision = await authorizer().authorizeUnwrap(request(r, over))
  return decision.allow ? 'allowed' : decision.reason
}

describe('log-before-decrypt (ledgerReceiptAuthorizer + openEntryReceipt)', () => {
  it('allows the receipt of a fresh object.get of the bucket, and of a copy from it', async () => {
    expect(await reasonFor(await receipt([getEvent()]))).toBe('allowed')
    const copy = getEvent({
      type: 'object.copy',
      bucket: commit(SECRET, 'elsewhere'),
      sourceBucket: commit(SECRET, 'photos'),
      sourceKey: commit(SECRET, 'cat.jpg'),
      size: 10,
    })
    expect(await reasonFor(await receipt([copy]))).toBe('allowed')
  })

  it('refuses a request without a receipt', async () => {
    expect(await reasonFor(undefined)).toMatch(/carries no ledger receipt/)
    expect(await reasonFor('')).toMatch(/carries no ledger receipt/)
  })

  it('refuses a malformed receipt and one that carries no entry', async () => {
    expect(await reasonFor('not a receipt')).toMatch(/does not verify: Cannot parse tlog-proof/)
    const parsed = parseTlogProof(await receipt([getEvent()]))
    const bare = formatTlogProof({
      index: parsed.index,
      proof: parsed.proof,
      checkpoint: parsed.checkpoint,
    })
    expect(await reasonFor(bare)).toMatch(/carries no entry/)
  })

  it("refuses a checkpoint not signed by the calling data center's allow-listed key", async () => {
    // Another key under the same origin: the signature is not by the allow-listed key.
    expect(await reasonFor(await receipt([getEvent()], { signerKey: IMPOSTOR }))).toMatch(
      /does not verify: .*no signature is by a known key/,
    )
    // A genuine receipt of data center dc-a, presented for a us-west-1 key context.
    const other = await receipt([getEvent({ dc: 'dc-a' })], { signerKey: DCA })
    expect(await reasonFor(other)).toMatch(/does not verify/)
    // The data center of the context has no ledger key on the allow-list at all.
    expect(
      await reasonFor(await receipt([getEvent()]), {
        context: { dc: 'ap-south-1', bucket: 'photos' },
        clientDc: 'ap-south-1',
      }),
    ).toMatch(/"ap-south-1" has no allow-listed ledger key/)
  })

  it('refuses a tampered entry and an entry not included at the claimed index', async () => {
    const good = await receipt([getEvent(), getEvent({ bucket: commit(SECRET, 'other') })])
    const parsed = parseTlogProof(good)
    const forged = encodeEvent(getEvent({ at: NOW.toISOString() }))
    const tampered = formatTlogProof({ ...parsed, extra: forged })
    expect(await reasonFor(tampered)).toMatch(/does not verify: .*is not in tree/)
    const moved = formatTlogProof({ ...parsed, index: 2n })
    expect(await reasonFor(moved)).toMatch(/does not verify: .*is not in tree/)
    const flipped = parsed.proof.map((h, i) => (i === 0 ? Uint8Array.from(h, (b) => b ^ 1) : h))
    expect(await reasonFor(formatTlogProof({ ...parsed, proof: flipped }))).toMatch(
      /does not verify: .*is not in tree/,
    )
    // A changed checkpoint body breaks the log's signature.
    const resized = good.replace(/\n3\n/, '\n4\n')
    expect(resized).not.toBe(good)
    expect(await reasonFor(resized)).toMatch(/does not verify/)
  })

  it('refuses an event of another bucket, another data center, or a kind that opens no key', async () => {
    expect(await reasonFor(await receipt([getEvent({ bucket: commit(SECRET, 'other') })]))).toMatch(
      /the event is for another bucket/,
    )
    // A bucket commitment made with another secret does not match either.
    const foreignSecret = new Uint8Array(32).fill(8)
    expect(
      await reasonFor(await receipt([getEvent({ bucket: commit(foreignSecret, 'photos') })])),
    ).toMatch(/another bucket/)
    expect(await reasonFor(await receipt([getEvent({ dc: 'dc-a' })]))).toMatch(
      /recorded by "dc-a", not "us-west-1"/,
    )
    const put = getEvent({ type: 'object.put', size: 1, content: commit(SECRET, 'etag') })
    expect(await reasonFor(await receipt([put]))).toMatch(
      /event "object.put" does not open a data key/,
    )
    // Entry 0 of the log is included and signed, but it is not an event.
    expect(await reasonFor(await receipt([getEvent()], { at: 0 }))).toMatch(
      /the receipt entry is not a ledger event/,
    )
  })

  it('refuses a stale event, one from the future, and a checkpoint cosigned too long ago', async () => {
    const old = new Date(NOW.getTime() - 31_000).toISOString()
    expect(await reasonFor(await receipt([getEvent({ at: old })]))).toMatch(/older than 30 s/)
    const ahead = new Date(NOW.getTime() + 60_000).toISOString()
    expect(await reasonFor(await receipt([getEvent({ at: ahead })]))).toMatch(/in the future/)
    expect(await reasonFor(await receipt([getEvent({ at: 'yesterday' })]))).toMatch(/no valid time/)
    const w = witness(NOW).vkey
    const withWitness = authorizer({ witnessKeys: [w] })
    const fresh = await receipt([getEvent()], { cosignedAt: new Date(NOW.getTime() - 5_000) })
    expect(await withWitness.authorizeUnwrap(request(fresh))).toEqual({ allow: true })
    const stale = await receipt([getEvent()], { cosignedAt: new Date(NOW.getTime() - 40_000) })
    expect(await withWitness.authorizeUnwrap(request(stale))).toMatchObject({
      allow: false,
      reason: expect.stringMatching(/last cosigned at .* more than 30 s ago/),
    })
    // Without the witness key configured, the unverifiable cosignature time is not relied on.
    expect(await reasonFor(stale)).toBe('allowed')
  })
})
