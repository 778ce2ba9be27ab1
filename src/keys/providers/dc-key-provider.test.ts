import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isKeyError } from '../key-error.js'
import { runKeyProviderContract } from '../key-provider.contract.js'
import { supportsKeyDestruction, supportsKeyRotation } from '../key-provider.js'
import { DcKeyProvider, masterKeyPath } from './dc-key-provider.js'

let contractRoot: string | undefined
runKeyProviderContract({
  name: 'dc',
  open: async (dc) => {
    contractRoot ??= await mkdtemp(join(tmpdir(), 'sovra-dckeys-'))
    return DcKeyProvider.open({ dc, dcDir: join(contractRoot, dc) })
  },
  cleanup: async () => {
    if (contractRoot !== undefined) await rm(contractRoot, { recursive: true, force: true })
  },
})

describe('DcKeyProvider', () => {
  let root: string
  const ctx = { dc: 'us-west-1', bucket: 'photos' }
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sovra-dckeys-'))
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })
  const openDc = (dc = 'us-west-1', dir = dc) => DcKeyProvider.open({ dc, dcDir: join(root, dir) })

  it('creates <dcDir>/keys/master.key with mode 0600 on first use and reuses it after a restart', async () => {
    const first = await openDc()
    const path = masterKeyPath(join(root, 'us-west-1'))
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await stat(join(root, 'us-west-1', 'keys'))).mode & 0o777).toBe(0o700)
    const dek = randomBytes(32)
    const wrapped = await first.wrap(dek, ctx)
    const again = await openDc()
    expect((await again.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
    const text = await readFile(path, 'utf8')
    expect(JSON.parse(text)).toMatchObject({
      format: 'sovra-dc-master-key',
      version: 1,
      dc: 'us-west-1',
    })
  })

  it('stores bucket KEKs sealed: no key file holds a data key or a raw KEK in the clear', async () => {
    const p = await openDc()
    const dek = randomBytes(32)
    await p.wrap(dek, ctx)
    const dir = join(root, 'us-west-1', 'keys', 'buckets')
    const files = await readdir(dir)
    expect(files).toHaveLength(1)
    const body = await readFile(join(dir, files[0] as string), 'utf8')
    expect(body.includes(dek.toString('base64url'))).toBe(false)
    expect(JSON.parse(body)).toMatchObject({
      format: 'sovra-dc-bucket-keks',
      version: 1,
      current: 1,
    })
  })

  it("two data centers draw different master keys; one DC's key cannot open another's data", async () => {
    const west = await openDc('us-west-1')
    const east = await openDc('us-east-1')
    const dek = randomBytes(32)
    const wrapped = await west.wrap(dek, ctx)
    // East has its own key for a bucket of the same name; West's wrapped key still fails there.
    await east.wrap(randomBytes(32), { dc: 'us-east-1', bucket: 'photos' })
    const err = await east
      .unwrap(wrapped, { dc: 'us-east-1', bucket: 'photos' })
      .catch((e: unknown) => e)
    expect(isKeyError(err, 'InvalidWrappedKey')).toBe(true)
    const a = await readFile(masterKeyPath(join(root, 'us-west-1')), 'utf8')
    const b = await readFile(masterKeyPath(join(root, 'us-east-1')), 'utf8')
    expect(JSON.parse(a).key).not.toBe(JSON.parse(b).key)
  })

  it("refuses a master key copied into another data center's folder", async () => {
    await openDc('us-west-1')
    await mkdir(join(root, 'stray', 'keys'), { recursive: true })
    await copyFile(masterKeyPath(join(root, 'us-west-1')), masterKeyPath(join(root, 'stray')))
    const err = await openDc('ap-southeast-1', 'stray').catch((e: unknown) => e)
    expect(isKeyError(err, 'MasterKeyUnavailable')).toBe(true)
  })

  it("destroyBucketKey() crypto-shreds the bucket: its wrapped keys never unwrap, other buckets' still do", async () => {
    const p = await openDc()
    expect(supportsKeyDestruction(p)).toBe(true)
    const wrapped = await p.wrap(randomBytes(32), ctx)
    const otherDek = randomBytes(32)
    const other = await p.wrap(otherDek, { ...ctx, bucket: 'docs' })
    await p.destroyBucketKey('photos')
    const err = await p.unwrap(wrapped, ctx).catch((e: unknown) => e)
    expect(isKeyError(err, 'KeyNotFound')).toBe(true)
    // Also after a restart, and after the bucket name is reused (a new, unrelated key).
    const reopened = await openDc()
    await reopened.wrap(randomBytes(32), ctx)
    const again = await reopened.unwrap(wrapped, ctx).catch((e: unknown) => e)
    expect(isKeyError(again, 'InvalidWrappedKey')).toBe(true)
    expect((await reopened.unwrap(other, { ...ctx, bucket: 'docs' })).equals(otherDek)).toBe(true)
  })

  it('rotate() adds a key version; old wrapped keys unwrap, rewrap() moves them to the new version', async () => {
    const p = await openDc()
    expect(supportsKeyRotation(p)).toBe(true)
    const dek = randomBytes(32)
    const v1 = await p.wrap(dek, ctx)
    expect(await p.rotate(ctx)).toBe(2)
    const v2 = await p.rewrap(v1, ctx)
    expect(v1.startsWith('dc:v1:1:')).toBe(true)
    expect(v2.startsWith('dc:v1:2:')).toBe(true)
    expect([p.keyVersionOf(v1), p.keyVersionOf(v2), p.keyVersionOf('sse-c:v1:x')]).toEqual([
      1,
      2,
      undefined,
    ])
    expect((await p.unwrap(v1, ctx)).equals(dek)).toBe(true)
    expect((await (await openDc()).unwrap(v2, ctx)).equals(dek)).toBe(true)
  })

  it('binds each wrapped key to its own bucket and key version, whatever the provider wrapped before', async () => {
    const p = await openDc()
    const other = { ...ctx, bucket: 'other' }
    const v1 = randomBytes(32)
    const v1Other = randomBytes(32)
    const w1 = await p.wrap(v1, ctx)
    const w1Other = await p.wrap(v1Other, other)
    if (!supportsKeyRotation(p)) throw new Error('expected rotation')
    await p.rotate(ctx)
    const v2 = randomBytes(32)
    const w2 = await p.wrap(v2, ctx)
    expect(p.keyVersionOf(w2)).toBe(2)
    // Each key opens in a fresh provider (nothing remembered, its first use of that bucket and
    // version), and what fresh providers seal opens here, where every pair was used before.
    for (const [wrapped, dek, context] of [
      [w1, v1, ctx],
      [w2, v2, ctx],
      [w1Other, v1Other, other],
    ] as const) {
      expect((await (await openDc()).unwrap(wrapped, context)).equals(dek)).toBe(true)
      const again = randomBytes(32)
      const sealed = await (await openDc()).wrap(again, context)
      expect((await p.unwrap(sealed, context)).equals(again)).toBe(true)
    }
  })

  it('creates one key when many writes race for a new bucket', async () => {
    const p = await openDc()
    const deks = Array.from({ length: 20 }, () => randomBytes(32))
    const wrapped = await Promise.all(deks.map((d) => p.wrap(d, ctx)))
    const fresh = await openDc()
    for (const [i, w] of wrapped.entries()) {
      expect((await fresh.unwrap(w, ctx)).equals(deks[i] as Buffer)).toBe(true)
    }
  })

  it('never creates a key for a bucket that no longer exists: a write racing DeleteBucket cannot undo crypto-shredding', async () => {
    const buckets = new Set(['photos'])
    const dir = join(root, 'us-west-1')
    const p = await DcKeyProvider.open(
      { dc: 'us-west-1', dcDir: dir },
      { bucketExists: async (b) => buckets.has(b) },
    )
    const keyFile = join(dir, 'keys', 'buckets', `${Buffer.from('photos').toString('hex')}.json`)
    const early = await p.wrap(randomBytes(32), ctx)
    // DeleteBucket: the row goes first, then the key file.
    buckets.delete('photos')
    await p.destroyBucketKey('photos')
    // The racing PUT wraps after the shredding: refused, and no key file comes back.
    const late = await p.wrap(randomBytes(32), ctx).catch((e: unknown) => e)
    expect(isKeyError(late, 'KeyNotFound')).toBe(true)
    expect(isKeyError(await p.rotate(ctx).catch((e: unknown) => e), 'KeyNotFound')).toBe(true)
    await expect(stat(keyFile)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(isKeyError(await p.unwrap(early, ctx).catch((e: unknown) => e), 'KeyNotFound')).toBe(
      true,
    )
    // Created again: a new, unrelated key.
    buckets.add('photos')
    const dek = randomBytes(32)
    const fresh = await p.wrap(dek, ctx)
    expect((await p.unwrap(fresh, ctx)).equals(dek)).toBe(true)
    expect(isKeyError(await p.unwrap(early, ctx).catch((e: unknown) => e))).toBe(true)
  })
  describe('its cache of unwrapped data keys', () => {
    it('hands out copies: a caller that zeroes its key does not change the next unwrap', async () => {
      const p = await openDc()
      const dek = randomBytes(32)
      const wrapped = await p.wrap(dek, ctx)
      const first = await p.unwrap(wrapped, ctx)
      first.fill(0)
      expect((await p.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
    })

    it('serves a key only for the bucket it was unwrapped for', async () => {
      const p = await openDc()
      const wrapped = await p.wrap(randomBytes(32), ctx)
      await p.unwrap(wrapped, ctx)
      await p.wrap(randomBytes(32), { ...ctx, bucket: 'other' })
      const err = await p.unwrap(wrapped, { ...ctx, bucket: 'other' }).catch((e: unknown) => e)
      expect(isKeyError(err, 'InvalidWrappedKey')).toBe(true)
    })

    it('does not keep a key unwrapped while the bucket key was being destroyed', async () => {
      const p = await openDc()
      const dek = randomBytes(32)
      const wrapped = await openDc().then((q) => q.wrap(dek, ctx))
      // A fresh provider: the unwrap misses the cache and loads the KEK file while DeleteBucket
      // destroys the key; whichever ends first, nothing unwraps the key afterwards.
      const racing = p.unwrap(wrapped, ctx).catch((e: unknown) => e)
      const destroyed = p.destroyBucketKey('photos')
      const got = await racing
      await destroyed
      if (Buffer.isBuffer(got)) expect(got.equals(dek)).toBe(true)
      const after = await p.unwrap(wrapped, ctx).catch((e: unknown) => e)
      expect(isKeyError(after, 'KeyNotFound')).toBe(true)
    })
  })
})
