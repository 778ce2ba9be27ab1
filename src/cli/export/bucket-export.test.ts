import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ATTESTATION_TYPE,
  ed25519Signer,
  formatSignerKey,
  ListDigest,
  parseSignerKey,
  signAttestation,
} from '../../ledger/index.js'
import { S3CallError, type S3Client } from '../s3/s3-client.js'
import {
  type AttestationDocument,
  exportBucket,
  MAX_ROUNDS,
  verifyExport,
} from './bucket-export.js'
import { isLocalName, localNameOf } from './local-names.js'

const ORIGIN = 'sovra.example/ledger/us-west-1'
const skey = formatSignerKey(ORIGIN, new Uint8Array(32).fill(3))
const signer = ed25519Signer(skey)
const vkey = parseSignerKey(skey).vkey
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex')

/** A bucket in memory behind the two S3 calls the export makes. */
function fakeBucket(initial: Record<string, string>) {
  const objects = new Map(Object.entries(initial).map(([k, v]) => [k, Buffer.from(v)]))
  const sorted = () =>
    [...objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const s3: S3Client = {
    async *listObjects() {
      yield sorted().map((key) => {
        const body = objects.get(key) as Buffer
        return { key, size: body.byteLength, etag: md5(body) }
      })
    },
    async getObject(_bucket, key) {
      const body = objects.get(key)
      if (body === undefined) throw new S3CallError(404, 'NoSuchKey', 'gone')
      return {
        size: body.byteLength,
        etag: md5(body),
        body: Readable.from([body]) as IncomingMessage,
      }
    },
  }
  const attest = (): AttestationDocument => {
    const digest = new ListDigest()
    for (const key of sorted()) {
      const body = objects.get(key) as Buffer
      digest.add(key, body.byteLength, md5(body))
    }
    return signAttestation(
      {
        v: 1,
        type: ATTESTATION_TYPE,
        bucket: 'b',
        dc: 'us-west-1',
        jurisdiction: 'US',
        tenant: 't-1',
        tenantCommitment: '00'.repeat(32),
        objectCount: digest.count,
        totalBytes: digest.bytes,
        listDigest: digest.digest(),
        issuedAt: new Date().toISOString(),
        checkpoint: null,
      },
      signer,
    )
  }
  return { objects, s3, attest }
}

let folder: string
afterEach(() => rmSync(folder, { recursive: true, force: true }))
const fresh = () => {
  folder = mkdtempSync(join(tmpdir(), 'sovra-export-'))
  return folder
}

describe('exportBucket', () => {
  it('re-attests when the bucket changed after the attestation, and says so', async () => {
    const bucket = fakeBucket({ a: 'one', b: 'two' })
    const reports: string[] = []
    let calls = 0
    const result = await exportBucket({
      bucket: 'b',
      folder: fresh(),
      s3: bucket.s3,
      attest: async () => {
        calls += 1
        const doc = bucket.attest()
        // A write lands between the first attestation and the listing.
        if (calls === 1) bucket.objects.set('c', Buffer.from('three'))
        return doc
      },
      report: (line) => reports.push(line),
    })
    expect(result.manifest.rounds).toBe(2)
    expect(result.manifest.objects.map((o) => o.key)).toEqual(['a', 'b', 'c'])
    expect(result.downloaded).toBe(3)
    expect(result.skipped).toBe(0)
    expect(reports.join('\n')).toContain('The bucket changed during the export (round 1')
    const check = await verifyExport(folder, { verifierKey: vkey })
    expect(check.problems).toEqual([])
  })

  it('exports an empty bucket as an empty objects/ folder and a manifest that verifies', async () => {
    const bucket = fakeBucket({})
    const result = await exportBucket({
      bucket: 'b',
      folder: fresh(),
      s3: bucket.s3,
      attest: async () => bucket.attest(),
      report: () => undefined,
    })
    expect(result.manifest.objects).toEqual([])
    expect(readdirSync(join(folder, 'objects'))).toEqual([])
    expect((await verifyExport(folder, { verifierKey: vkey })).problems).toEqual([])
  })

  it('removes files of objects deleted since an earlier export', async () => {
    const bucket = fakeBucket({ keep: 'k', drop: 'd' })
    const deps = { bucket: 'b', folder: fresh(), s3: bucket.s3, report: () => undefined }
    await exportBucket({ ...deps, attest: async () => bucket.attest() })
    bucket.objects.delete('drop')
    writeFileSync(join(folder, 'objects', 'stray'), 'left by a crash after a rename')
    const again = await exportBucket({ ...deps, attest: async () => bucket.attest() })
    expect(again.manifest.objects.map((o) => o.key)).toEqual(['keep'])
    expect(readdirSync(join(folder, 'objects'))).toEqual(['keep'])
    expect((await verifyExport(folder)).problems).toEqual([])
  })

  it(`gives up after ${MAX_ROUNDS} rounds of a bucket that keeps changing`, async () => {
    const bucket = fakeBucket({ a: 'one' })
    let n = 0
    await expect(
      exportBucket({
        bucket: 'b',
        folder: fresh(),
        s3: bucket.s3,
        attest: async () => {
          const doc = bucket.attest()
          bucket.objects.set(`new-${n++}`, Buffer.from('x'))
          return doc
        },
        report: () => undefined,
      }),
    ).rejects.toThrow(`it kept changing during ${MAX_ROUNDS} rounds`)
  })

  it('resumes an interrupted export from its journal, fetching only what is missing', async () => {
    const bucket = fakeBucket({ a: 'one', b: 'two', c: 'three' })
    const fetched: string[] = []
    let failOn: string | undefined = 'b'
    const s3: S3Client = {
      listObjects: bucket.s3.listObjects,
      async getObject(name, key) {
        if (key === failOn) throw new Error('connection reset')
        fetched.push(key)
        return bucket.s3.getObject(name, key)
      },
    }
    const deps = {
      bucket: 'b',
      folder: fresh(),
      s3,
      attest: async () => bucket.attest(),
      report: () => undefined,
    }
    await expect(exportBucket(deps)).rejects.toThrow('connection reset')
    const before = [...fetched].sort()
    expect(before).not.toContain('b')
    failOn = undefined
    const resumed = await exportBucket(deps)
    // Only what the interrupted run did not finish is fetched again.
    expect(fetched.slice(before.length)).toEqual(['a', 'b', 'c'].filter((k) => !before.includes(k)))
    expect([resumed.downloaded, resumed.skipped]).toEqual([3 - before.length, before.length])
    expect((await verifyExport(folder, { verifierKey: vkey })).problems).toEqual([])
  })

  it("refuses a folder holding another bucket's export, and ignores manifest paths outside objects/", async () => {
    const bucket = fakeBucket({ a: 'one' })
    const deps = {
      bucket: 'b',
      folder: fresh(),
      s3: bucket.s3,
      attest: async () => bucket.attest(),
      report: () => undefined,
    }
    await exportBucket(deps)
    await expect(exportBucket({ ...deps, bucket: 'other' })).rejects.toThrow(
      'it holds an export of bucket "b"',
    )
    // A manifest edited to point a stale entry outside the folder: the export never touches it.
    const outside = join(folder, '..', `outside-${Date.now()}`)
    writeFileSync(outside, 'keep me')
    const path = join(folder, 'manifest.json')
    const manifest = JSON.parse(readFileSync(path, 'utf8'))
    manifest.objects.push({
      key: 'gone',
      size: 1,
      etag: 'x',
      sha256: 'y',
      file: `../${outside.split('/').pop()}`,
    })
    writeFileSync(path, JSON.stringify(manifest))
    await exportBucket(deps)
    expect(readFileSync(outside, 'utf8')).toBe('keep me')
    rmSync(outside)
  })

  it('refuses bytes whose MD5 is not the ETag, writing nothing', async () => {
    const bucket = fakeBucket({ a: 'one' })
    const s3: S3Client = {
      listObjects: bucket.s3.listObjects,
      async getObject() {
        return {
          size: 3,
          etag: md5(Buffer.from('one')),
          body: Readable.from([Buffer.from('ONE')]) as IncomingMessage,
        }
      },
    }
    await expect(
      exportBucket({
        bucket: 'b',
        folder: fresh(),
        s3,
        attest: async () => bucket.attest(),
        report: () => undefined,
      }),
    ).rejects.toThrow(/MD5 .* is not the ETag/)
    expect(() => readFileSync(join(folder, 'objects', 'a'))).toThrow()
  })
})

describe('localNameOf', () => {
  it('maps keys to distinct, flat, safe names', () => {
    const keys = ['a', 'a/b', '../x', '..', '.', '.hidden', 'a%2Fb', 'ü', 'x\u0000y', '/abs', '~t']
    const names = keys.map(localNameOf)
    expect(new Set(names).size).toBe(keys.length)
    for (const name of names) {
      expect(isLocalName(name), name).toBe(true)
      expect(name).not.toMatch(/[/\\\0]/)
      expect(name.startsWith('.')).toBe(false)
    }
    expect(localNameOf('../x')).toBe('%2E.%2Fx')
    expect(localNameOf('a%2Fb')).toBe('a%252Fb')
  })

  it('names long keys by their hash', () => {
    const long = 'k'.repeat(1024)
    expect(localNameOf(long)).toBe(`~${createHash('sha256').update(long).digest('hex')}`)
    expect(isLocalName(localNameOf(long))).toBe(true)
    expect(isLocalName('../x')).toBe(false)
  })
})
