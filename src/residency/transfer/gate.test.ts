import { createPrivateKey, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { Cell } from '../../cell/index.js'
import { corruptingWrites, type GateWorld, openGateWorld } from './fixtures/test-fixtures.js'
import type { TransferGateDeps } from './gate.js'
import { keygen } from './signing-keys.js'

const worlds: GateWorld[] = []
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close()
})

async function world(deps: Partial<TransferGateDeps> = {}): Promise<GateWorld> {
  const w = await openGateWorld(deps)
  worlds.push(w)
  return w
}

/** The refusal code of a submission, or 'accepted'. */
async function outcome(w: GateWorld, document: string, tenant = w.tenantId): Promise<string> {
  try {
    await w.service.submit(document, tenant)
    return 'accepted'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

describe('transfer gate: refusals (each with its precise code, nothing recorded, nothing moved)', () => {
  it('refuses a bad signature with InstructionSignatureInvalid', async () => {
    const w = await world()
    const signed = JSON.parse(w.sign(w.instruction())) as { signature: string }
    const bytes = Buffer.from(signed.signature, 'base64')
    bytes[0] = (bytes[0] ?? 0) ^ 1
    signed.signature = bytes.toString('base64')
    expect(await outcome(w, JSON.stringify(signed))).toBe('InstructionSignatureInvalid')
  })

  it('refuses a tampered instruction (signature over other bytes) with InstructionSignatureInvalid', async () => {
    const w = await world()
    const signed = JSON.parse(w.sign(w.instruction())) as { instruction: { operation: string } }
    signed.instruction.operation = 'move'
    expect(await outcome(w, JSON.stringify(signed))).toBe('InstructionSignatureInvalid')
  })

  it('refuses an expired instruction with InstructionExpired', async () => {
    const w = await world()
    const doc = w.sign(w.instruction())
    w.now += 3_600_000 + 6 * 60_000
    expect(await outcome(w, doc)).toBe('InstructionExpired')
  })

  it('refuses a not yet valid instruction with InstructionNotYetValid', async () => {
    const w = await world()
    const doc = w.sign(
      w.instruction({
        notBefore: new Date(w.now + 3_600_000).toISOString(),
        notAfter: new Date(w.now + 7_200_000).toISOString(),
      }),
    )
    expect(await outcome(w, doc)).toBe('InstructionNotYetValid')
  })

  it('refuses a replay with InstructionReplayed, also after the directory is reopened', async () => {
    const w = await world()
    const doc = w.sign(w.instruction())
    expect(await outcome(w, doc)).toBe('accepted')
    expect(await outcome(w, doc)).toBe('InstructionReplayed')
    await w.restart()
    expect(await outcome(w, doc)).toBe('InstructionReplayed')
    // Another instruction reusing the nonce is a replay too: nonces are single use, ever.
    const nonce = (JSON.parse(doc) as { instruction: { nonce: string } }).instruction.nonce
    const again = w.sign(w.instruction({ nonce, scope: { kind: 'prefix', prefix: 'x/' } }))
    expect(await outcome(w, again)).toBe('InstructionReplayed')
  })

  it('accepts only one of two concurrent submissions of one instruction', async () => {
    const w = await world()
    const doc = w.sign(w.instruction())
    const results = await Promise.all([outcome(w, doc), outcome(w, doc), outcome(w, doc)])
    expect(results.filter((r) => r === 'accepted')).toHaveLength(1)
    expect(results.filter((r) => r === 'InstructionReplayed')).toHaveLength(2)
  })

  it('refuses an operator request that differs from what was signed with InstructionScopeMismatch', async () => {
    const w = await world()
    const ins = w.instruction({ scope: { kind: 'prefix', prefix: 'reports/' } })
    const request = {
      tenantId: w.tenantId,
      source: ins.source,
      destination: ins.destination,
      scope: { kind: 'prefix' as const, prefix: 'rep' },
      operation: ins.operation,
    }
    await expect(w.service.submit(w.sign(ins), w.tenantId, { request })).rejects.toMatchObject({
      code: 'InstructionScopeMismatch',
    })
    // Submitted by another tenant: the request's tenant is not the signed one.
    expect(await outcome(w, w.sign(w.instruction()), w.otherTenantId)).toBe(
      'InstructionScopeMismatch',
    )
  })

  it('refuses a revoked key with InstructionKeyRevoked, and an unregistered one with InstructionKeyUnknown', async () => {
    const w = await world()
    const [key] = await w.service.listPublicKeys(w.tenantId)
    await w.service.revokePublicKey(key?.keyId as string)
    expect(await outcome(w, w.sign(w.instruction()))).toBe('InstructionKeyRevoked')
    const stranger = keygen()
    expect(await outcome(w, w.sign(w.instruction(), stranger.privateKeyPem))).toBe(
      'InstructionKeyUnknown',
    )
  })

  it('refuses a planned destination with DataCenterNotActive', async () => {
    const w = await world()
    await w.directory.reserveBucket({ name: 'in-bucket', tenantId: w.tenantId, dcId: 'ap-south-1' })
    const doc = w.sign(w.instruction({ destination: { dc: 'ap-south-1', bucket: 'in-bucket' } }))
    expect(await outcome(w, doc)).toBe('DataCenterNotActive')
  })

  it('refuses a bucket the tenant does not own with InstructionBucketMismatch', async () => {
    const w = await world()
    const doc = w.sign(
      w.instruction({ destination: { dc: 'us-east-1', bucket: 'foreign-bucket' } }),
    )
    expect(await outcome(w, doc)).toBe('InstructionBucketMismatch')
  })

  it('refuses an export from CN without the legal basis its rule requires with ExportBasisRequired', async () => {
    const w = await world()
    const doc = w.sign(w.instruction({ source: { dc: 'cn-hangzhou', bucket: 'cn-bucket' } }))
    expect(await outcome(w, doc)).toBe('ExportBasisRequired')
    const withBasis = w.sign(
      w.instruction({
        source: { dc: 'cn-hangzhou', bucket: 'cn-bucket' },
        legalBasis: { kind: 'CN-PIPL-standard-contract', reference: 'SC-1' },
      }),
    )
    expect(await outcome(w, withBasis)).toBe('accepted')
  })

  it('records nothing and moves nothing when it refuses', async () => {
    const w = await world()
    await w.put('us-west-1', 'src-bucket', 'a', Buffer.from('a'))
    w.trace.length = 0
    const doc = w.sign(
      w.instruction({ destination: { dc: 'us-east-1', bucket: 'foreign-bucket' } }),
    )
    expect(await outcome(w, doc)).toBe('InstructionBucketMismatch')
    expect(w.trace).toEqual([])
    expect(await w.service.list()).toEqual([])
  })
})

describe('transfer gate: running jobs', () => {
  it('logs the instruction in both ledgers before any byte moves, then copies with verified checksums', async () => {
    const w = await world()
    const big = randomBytes(300_000)
    await w.put('us-west-1', 'src-bucket', 'big.bin', big)
    await w.put('us-west-1', 'src-bucket', 'small.txt', Buffer.from('hello'))
    w.trace.length = 0
    const record = await w.service.submit(w.sign(w.instruction()), 'acme')
    expect(record.loggedAt).not.toBeNull()
    await w.service.idle()
    const firstMove = w.trace.findIndex((t) => t.startsWith('write') || t.startsWith('put'))
    const logged = w.trace
      .slice(0, firstMove)
      .filter((t) => t.endsWith('transfer.instruction'))
      .sort()
    expect(logged).toEqual([
      'append us-east-1 transfer.instruction',
      'append us-west-1 transfer.instruction',
    ])
    expect(await w.get('us-east-1', 'dst-bucket', 'big.bin')).toEqual(big)
    expect((await w.get('us-east-1', 'dst-bucket', 'small.txt'))?.toString()).toBe('hello')
    const copy = await w.cells.get('us-east-1')?.meta.getObject('dst-bucket', 'big.bin')
    const original = await w.cells.get('us-west-1')?.meta.getObject('src-bucket', 'big.bin')
    expect(copy?.etag).toBe(original?.etag)
    expect(copy?.userMetadata).toEqual({ origin: 'us-west-1' })
    const status = await w.service.status(record.id, 'acme')
    expect(status).toMatchObject({ status: 'done', objectsDone: 2, bytesDone: big.length + 5 })
    // copy leaves the source in place
    expect(await w.get('us-west-1', 'src-bucket', 'big.bin')).toEqual(big)
    const finish = w.appended.filter((a) => a.event.type === 'transfer.finish')
    expect(finish.map((f) => f.dc).sort()).toEqual(['us-east-1', 'us-west-1'])
  })

  it('moves nothing, and fails the job, when a ledger cannot record the instruction', async () => {
    const w = await world()
    await w.put('us-west-1', 'src-bucket', 'k', randomBytes(1000))
    const east = w.cells.get('us-east-1') as NonNullable<ReturnType<typeof w.cells.get>>
    const log = new Proxy(east.ledger.log, {
      get: (target, prop) =>
        prop === 'append'
          ? () => Promise.reject(new Error('disk full'))
          : (Reflect.get(target, prop, target) as unknown),
    })
    w.cells.set('us-east-1', { ...east, ledger: { ...east.ledger, log } })
    w.trace.length = 0
    await expect(w.service.submit(w.sign(w.instruction()), 'acme')).rejects.toThrow('disk full')
    await w.service.idle()
    expect(w.trace.filter((t) => !t.startsWith('append'))).toEqual([])
    const [t] = await w.service.list()
    expect(t).toMatchObject({ status: 'failed', loggedAt: null })
    expect(await w.get('us-east-1', 'dst-bucket', 'k')).toBeNull()
    w.cells.set('us-east-1', east)
  })

  it('refuses to copy bytes that do not match the source ETag and fails the job', async () => {
    const w = await world()
    await w.put('us-west-1', 'src-bucket', 'k', randomBytes(1000))
    // Corrupt the source record's ETag: the copy must not become visible at the destination.
    const cell = w.cells.get('us-west-1')
    const rec = await cell?.meta.getObject('src-bucket', 'k', { withData: true })
    await cell?.meta.putObject({ ...(rec as NonNullable<typeof rec>), etag: '0'.repeat(32) })
    const record = await w.service.submit(w.sign(w.instruction()), 'acme')
    await w.service.idle()
    const status = await w.service.status(record.id)
    expect(status.status).toBe('failed')
    expect(status.error).toContain('Cannot verify the copy')
    expect(await w.get('us-east-1', 'dst-bucket', 'k')).toBeNull()
  })

  it('resumes after a crash mid-job without duplicating or losing objects', async () => {
    let crashAfter = 3
    const w = await world({
      // One object at a time: the crash falls exactly after the third (in flight: see below).
      runner: {
        pollMs: 0,
        switchGraceMs: 0,
        objectsInFlight: 1,
        afterObject: () => --crashAfter === 0,
      },
    })
    const originals = new Map<string, Buffer>()
    for (let i = 0; i < 8; i++) {
      const bytes = randomBytes(100 + i * 50)
      originals.set(`obj-${i}`, bytes)
      await w.put('us-west-1', 'src-bucket', `obj-${i}`, bytes)
    }
    const record = await w.service.submit(w.sign(w.instruction({ operation: 'move' })), 'acme')
    await w.service.idle()
    const mid = await w.service.status(record.id)
    expect(mid.status).toBe('running')
    expect(mid.objectsDone).toBe(3)

    // A restart: new directory handle, new runner; the job resumes from its durable progress.
    crashAfter = -1
    await w.restart({ runner: { pollMs: 0, switchGraceMs: 0 } })
    w.service.start()
    await expect
      .poll(async () => (await w.service.status(record.id)).status, { timeout: 15_000 })
      .toBe('done')
    const done = await w.service.status(record.id)
    expect(done).toMatchObject({ status: 'done', objectsDone: 8, objectsMissing: 0 })
    for (const [key, bytes] of originals) {
      expect(await w.get('us-east-1', 'dst-bucket', key)).toEqual(bytes)
      expect(await w.get('us-west-1', 'src-bucket', key)).toBeNull()
    }
    const copied = w.appended.filter(
      (a) =>
        a.event.type === 'transfer.object' && a.event.action === 'copied' && a.dc === 'us-east-1',
    )
    expect(copied).toHaveLength(8) // each object copied exactly once across the crash
    expect(w.trace.filter((t) => t.startsWith('put us-east-1'))).toHaveLength(8)
  })

  it('resumes after a crash with several objects in flight, copying each exactly once', async () => {
    let completed = 0
    const runner = { pollMs: 0, switchGraceMs: 0, objectsInFlight: 4 }
    const w = await world({ runner: { ...runner, afterObject: () => ++completed === 5 } })
    const originals = new Map<string, Buffer>()
    for (let i = 0; i < 12; i++) {
      const bytes = randomBytes(200 + i * 10)
      originals.set(`obj-${String(i).padStart(2, '0')}`, bytes)
      await w.put('us-west-1', 'src-bucket', `obj-${String(i).padStart(2, '0')}`, bytes)
    }
    const record = await w.service.submit(w.sign(w.instruction({ operation: 'move' })), 'acme')
    await w.service.idle()
    const mid = await w.service.status(record.id)
    expect(mid.status).toBe('running')
    // The crash came after the fifth object; the others in flight then finished their steps.
    expect(mid.objectsDone).toBeGreaterThanOrEqual(5)
    expect(mid.objectsDone).toBeLessThan(12)

    await w.restart({ runner })
    w.service.start()
    await expect
      .poll(async () => (await w.service.status(record.id)).status, { timeout: 15_000 })
      .toBe('done')
    const bytes = [...originals.values()].reduce((n, b) => n + b.length, 0)
    expect(await w.service.status(record.id)).toMatchObject({
      objectsDone: 12,
      objectsMissing: 0,
      bytesDone: bytes,
    })
    for (const [key, original] of originals) {
      expect(await w.get('us-east-1', 'dst-bucket', key)).toEqual(original)
      expect(await w.get('us-west-1', 'src-bucket', key)).toBeNull()
    }
    const objectEvents = (dc: string, action: string) =>
      w.appended.filter(
        (a) => a.dc === dc && a.event.type === 'transfer.object' && a.event.action === action,
      )
    // Each object copied, logged and removed at the source exactly once across the crash.
    expect(objectEvents('us-east-1', 'copied')).toHaveLength(12)
    expect(objectEvents('us-west-1', 'source-removed')).toHaveLength(12)
    expect(w.trace.filter((t) => t.startsWith('put us-east-1'))).toHaveLength(12)
  })

  it('fails the job on a corrupted destination write: no object done, no source deleted', async () => {
    const w = await world()
    for (const key of ['a', 'b', 'c'])
      await w.put('us-west-1', 'src-bucket', key, randomBytes(3000))
    w.cells.set('us-east-1', corruptingWrites(w.cells.get('us-east-1') as Cell))
    const record = await w.service.submit(w.sign(w.instruction({ operation: 'move' })), 'acme')
    await w.service.idle()
    const status = await w.service.status(record.id)
    expect(status).toMatchObject({ status: 'failed', objectsDone: 0, bytesDone: 0 })
    expect(status.error).toContain('Cannot verify the copy')
    for (const key of ['a', 'b', 'c']) {
      expect(await w.get('us-west-1', 'src-bucket', key)).not.toBeNull()
      expect(await w.cells.get('us-east-1')?.meta.getObject('dst-bucket', key)).toBeNull()
    }
    expect(w.appended.filter((a) => a.event.type === 'transfer.object')).toEqual([])
    expect(w.appended.filter((a) => a.event.type === 'transfer.finish')).toHaveLength(2)
  })

  it('move deletes each source object only after its destination copy is durable', async () => {
    const w = await world()
    for (const key of ['a', 'b', 'c']) await w.put('us-west-1', 'src-bucket', key, randomBytes(200))
    w.trace.length = 0
    await w.service.submit(
      w.sign(w.instruction({ operation: 'move', scope: { kind: 'keys', keys: ['a', 'c', 'zz'] } })),
      'acme',
    )
    await w.service.idle()
    for (const key of ['a', 'c']) {
      const put = w.trace.indexOf(`put us-east-1 dst-bucket/${key}`)
      const del = w.trace.indexOf(`delete us-west-1 src-bucket/${key}`)
      expect(put).toBeGreaterThanOrEqual(0)
      expect(del).toBeGreaterThan(put)
    }
    expect(await w.get('us-west-1', 'src-bucket', 'b')).not.toBeNull() // not in scope
    const [t] = await w.service.list({ tenant: 'acme' })
    expect(t).toMatchObject({ status: 'done', objectsDone: 2, objectsMissing: 1 })
  })

  it('migrate copies the bucket, switches its home atomically, then removes the source copy', async () => {
    const w = await world()
    await w.put('us-west-1', 'src-bucket', 'one', randomBytes(500))
    await w.put('us-west-1', 'src-bucket', 'two', Buffer.from('2'))
    const doc = w.sign(
      w.instruction({
        operation: 'migrate',
        destination: { dc: 'us-east-1', bucket: 'src-bucket' },
      }),
    )
    const record = await w.service.submit(doc, 'acme')
    await w.service.idle()
    expect(await w.service.status(record.id)).toMatchObject({ status: 'done', phase: 'cleanup' })
    expect((await w.directory.getBucket('src-bucket'))?.dcId).toBe('us-east-1')
    expect(await w.get('us-east-1', 'src-bucket', 'two')).toEqual(Buffer.from('2'))
    expect(await w.cells.get('us-west-1')?.meta.getBucket('src-bucket')).toBeNull()
    const switched = w.trace.findIndex((t) => t.startsWith('delete us-west-1'))
    const lastPut = w.trace.map((t) => t.startsWith('put us-east-1')).lastIndexOf(true)
    expect(switched).toBeGreaterThan(lastPut)
  })
})

describe('transfer gate: migrate and late writes', () => {
  it('copies writes the old endpoint accepted after the home switch before removing the source', async () => {
    const w = await world({ runner: { pollMs: 0, switchGraceMs: 400 } })
    await w.put('us-west-1', 'src-bucket', 'kept', Buffer.from('v1'))
    await w.put('us-west-1', 'src-bucket', 'deleted', Buffer.from('deleted at the old endpoint'))
    const doc = w.sign(
      w.instruction({
        operation: 'migrate',
        destination: { dc: 'us-east-1', bucket: 'src-bucket' },
      }),
    )
    const record = await w.service.submit(doc, 'acme')
    for (let i = 0; i < 200; i++) {
      if ((await w.service.status(record.id)).phase !== 'copy') break
      await new Promise((r) => setTimeout(r, 10))
    }
    expect((await w.service.status(record.id)).phase).toBe('switched')
    // Writes in flight at the old endpoint land after the switch; a delete there is kept too.
    await w.put('us-west-1', 'src-bucket', 'late', Buffer.from('late write'))
    await w.put('us-west-1', 'src-bucket', 'kept', Buffer.from('v2'))
    expect(
      (await w.cells.get('us-west-1')?.meta.deleteObject('src-bucket', 'deleted'))?.deleted,
    ).toBe(true)
    await w.service.idle()
    expect(await w.service.status(record.id)).toMatchObject({
      status: 'done',
      objectsDone: 2,
      objectsMissing: 1,
    })
    expect(await w.get('us-east-1', 'src-bucket', 'deleted')).toBeNull()
    expect(
      w.appended.some(
        (a) => a.event.type === 'transfer.object' && a.event.action === 'destination-removed',
      ),
    ).toBe(true)
    expect((await w.get('us-east-1', 'src-bucket', 'late'))?.toString()).toBe('late write')
    expect((await w.get('us-east-1', 'src-bucket', 'kept'))?.toString()).toBe('v2')
    expect(await w.cells.get('us-west-1')?.meta.getBucket('src-bucket')).toBeNull()
  })
})

describe('transfer gate: migrate resumes after a crash in its cleanup', () => {
  it('finishes the cleanup after a restart, counting every object once', async () => {
    let calls = 0
    const w = await world({
      runner: { pollMs: 0, switchGraceMs: 0, afterObject: () => ++calls === 5 },
    })
    const originals = new Map<string, Buffer>()
    for (const key of ['a', 'b', 'c']) {
      originals.set(key, randomBytes(300))
      await w.put('us-west-1', 'src-bucket', key, originals.get(key) as Buffer)
    }
    const doc = w.sign(
      w.instruction({
        operation: 'migrate',
        destination: { dc: 'us-east-1', bucket: 'src-bucket' },
      }),
    )
    const record = await w.service.submit(doc, 'acme')
    await w.service.idle()
    expect(await w.service.status(record.id)).toMatchObject({ status: 'running', phase: 'cleanup' })
    expect((await w.directory.getBucket('src-bucket'))?.dcId).toBe('us-east-1')

    await w.restart({ runner: { pollMs: 0, switchGraceMs: 0 } })
    w.service.start()
    await expect
      .poll(async () => (await w.service.status(record.id)).status, { timeout: 15_000 })
      .toBe('done')
    expect(await w.service.status(record.id)).toMatchObject({ objectsDone: 3, bytesDone: 900 })
    for (const [key, bytes] of originals) {
      expect(await w.get('us-east-1', 'src-bucket', key)).toEqual(bytes)
    }
    expect(await w.cells.get('us-west-1')?.meta.getBucket('src-bucket')).toBeNull()
  })
})

describe('S3 copies under an accepted instruction', () => {
  it('are covered while the instruction is valid, and refused once it expired or its key was revoked', async () => {
    const w = await world()
    await w.put('us-west-1', 'src-bucket', 'k', Buffer.from('bytes'))
    const record = await w.service.submit(
      w.sign(w.instruction({ scope: { kind: 'keys', keys: ['k'] } })),
      w.tenantId,
    )
    await w.service.idle()
    const copy = {
      tenantId: w.tenantId,
      transferId: record.id,
      source: { dc: 'us-west-1', bucket: 'src-bucket', key: 'k' },
      destination: { dc: 'us-east-1', bucket: 'dst-bucket', key: 'k' },
    }
    expect(await w.service.openCoveredSource(copy)).not.toBeNull()
    // notAfter is one hour ahead; 5 minutes of skew are allowed, not 6.
    w.now += 3_600_000 + 6 * 60_000
    await expect(w.service.openCoveredSource(copy)).rejects.toMatchObject({
      code: 'InstructionExpired',
    })
    w.now -= 3_600_000 + 6 * 60_000
    await w.service.revokePublicKey(JSON.parse(record.signed).keyId)
    await expect(w.service.openCoveredSource(copy)).rejects.toMatchObject({
      code: 'InstructionKeyRevoked',
    })
  })
})

describe('signing keys', () => {
  it('lists revoked keys with revokedAt and refuses duplicates and bad keys', async () => {
    const w = await world()
    const extra = keygen()
    const added = await w.service.addPublicKey('acme', extra.publicKeyRaw)
    expect(added.keyId).toBe(extra.keyId)
    await expect(w.service.addPublicKey('acme', extra.publicKeyPem)).rejects.toMatchObject({
      code: 'SigningKeyAlreadyExists',
    })
    await expect(w.service.addPublicKey('acme', 'not a key')).rejects.toMatchObject({
      code: 'SigningKeyInvalid',
    })
    // A private key, as PEM or as base64 DER, is refused without echoing any of it.
    const der = createPrivateKey(extra.privateKeyPem)
      .export({ format: 'der', type: 'pkcs8' })
      .toString('base64')
    for (const secret of [extra.privateKeyPem, der]) {
      const err = await w.service.addPublicKey('acme', secret).catch((e: Error) => e)
      expect(err).toMatchObject({ code: 'SigningKeyIsPrivate' })
      expect((err as Error).message).not.toContain(der.slice(-20))
    }
    await expect(w.service.revokePublicKey(extra.keyId, 'other')).rejects.toMatchObject({
      code: 'NoSuchSigningKey',
    })
    await w.service.revokePublicKey(extra.keyId, 'acme')
    const keys = await w.service.listPublicKeys('acme')
    expect(keys).toHaveLength(2)
    expect(keys.find((k) => k.keyId === extra.keyId)?.revokedAt).toEqual(expect.any(Number))
  })
})
