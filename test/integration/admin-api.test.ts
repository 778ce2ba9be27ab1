import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { operatorTokenPath } from '../../src/access/index.js'
import { type Directory, openDirectory } from '../../src/directory/index.js'
import { adminCall } from '../support/admin-client.js'
import { publicEvents } from '../support/public-log.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
let admin: string
let token: string

beforeAll(async () => {
  server = await startSovra()
  admin = server.sovra.adminEndpoint
  token = server.sovra.operatorToken as string
})
afterAll(async () => {
  await server?.stop()
})

const catalog = async () =>
  (await adminCall(admin, '/admin/v1/data-centers')).json.dataCenters as Array<{
    id: string
    status: string
    port: number
    endpoint: string | null
  }>

/** The `dc.change` events about a data center in the directory's public log, once there are `count`. */
async function dcChanges(dcId: string, count: number): Promise<Array<Record<string, unknown>>> {
  let found: Array<Record<string, unknown>> = []
  for (let attempt = 0; attempt < 100; attempt++) {
    found = (await publicEvents(admin, 'directory'))
      .filter((event) => event.type === 'dc.change' && event.target === dcId)
      .map((event) => ({ ...event }))
    if (found.length >= count) return found
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`The directory log did not reach ${count} changes of "${dcId}" (${found.length})`)
}

/** A TCP port that is free now (the OS picks it; closed again before use). */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as { port: number }).port
  await new Promise((resolve) => probe.close(resolve))
  return port
}

describe('admin API: public routes', () => {
  it('serves health, the catalog, ledger keys and the OpenAPI document without credentials', async () => {
    expect((await adminCall(admin, '/healthz')).json).toEqual({ status: 'ok' })
    const dcs = await catalog()
    expect(dcs.map((d) => d.id)).toContain('us-west-1')
    expect(dcs.find((d) => d.id === 'us-west-1')?.endpoint).toBe(server.endpoint('us-west-1'))
    const keys = (await adminCall(admin, '/admin/v1/ledger/keys')).json.ledgers as unknown[]
    // One log per data center, and the directory's.
    expect(keys.length).toBe(dcs.length + 1)
    const doc = await adminCall(admin, '/admin/v1/openapi.json')
    expect(doc.status).toBe(200)
    expect((doc.json.paths as Record<string, unknown>)['/admin/v1/data-centers']).toBeDefined()
    const metrics = await fetch(`${admin}/metrics`)
    expect(metrics.status).toBe(200)
    const missing = await adminCall(admin, '/admin/v1/nothing')
    expect([missing.status, missing.json.code]).toEqual([404, 'NotFound'])
  })
})

describe('admin API: operator token', () => {
  it('is printed on the first start, kept in a 0600 file, and only hashed in the directory', () => {
    expect(token).toMatch(/^sovra_op_[A-Za-z0-9_-]{43}$/)
    const file = operatorTokenPath(server.dataDir)
    expect(readFileSync(file, 'utf8').trim()).toBe(token)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const db = readFileSync(join(server.dataDir, 'directory.sqlite'))
    const wal = join(server.dataDir, 'directory.sqlite-wal')
    const stored = Buffer.concat([db, existsSync(wal) ? readFileSync(wal) : Buffer.alloc(0)])
    expect(stored.includes(token)).toBe(false)
  })

  it('guards operator routes: no token and a wrong token get 401, a tenant signature 403', async () => {
    const before = await catalog()
    const body = { id: 'eu-nope-1', city: 'Nowhere', jurisdiction: 'CH', port: 0 }
    const none = await adminCall(admin, '/admin/v1/data-centers', { body })
    expect([none.status, none.json.code]).toEqual([401, 'Unauthenticated'])
    const wrong = await adminCall(admin, '/admin/v1/data-centers', { body, token: `${token}x` })
    expect([wrong.status, wrong.json.code]).toEqual([401, 'Unauthenticated'])
    const tenant = await adminCall(admin, '/admin/v1/data-centers', { body, sigv4: ROOT })
    expect([tenant.status, tenant.json.code]).toEqual([403, 'Forbidden'])
    const drain = await adminCall(admin, '/admin/v1/data-centers/us-west-1/drain', {
      method: 'POST',
    })
    expect(drain.status).toBe(401)
    expect(await catalog()).toEqual(before)
  })
})

describe('admin API: tenant authentication', () => {
  it('tells a tenant who it is from a request the AWS SDK signer signed with its S3 key', async () => {
    const me = await adminCall(admin, '/admin/v1/tenant', { sigv4: ROOT })
    expect(me.status).toBe(200)
    expect(me.json).toMatchObject({ name: 'admin', accessKeyId: ROOT.accessKeyId })
    const forged = await adminCall(admin, '/admin/v1/tenant', {
      sigv4: { ...ROOT, secretAccessKey: 'not-the-root-secret-0123456789abcdefghij' },
    })
    expect([forged.status, forged.json.code]).toEqual([401, 'SignatureDoesNotMatch'])
    expect((await adminCall(admin, '/admin/v1/tenant')).status).toBe(401)
    const operator = await adminCall(admin, '/admin/v1/tenant', { token })
    expect([operator.status, operator.json.code]).toEqual([403, 'Forbidden'])
  })
})

describe('admin API: data center lifecycle at run time', () => {
  it('adds a data center that serves S3 at once, drains it, and retires it once empty', async () => {
    const added = await adminCall(admin, '/admin/v1/data-centers', {
      token,
      body: { id: 'eu-zurich-1', city: 'Zurich', jurisdiction: 'CH', port: 0 },
    })
    expect(added.status).toBe(201)
    expect(added.json).toMatchObject({
      id: 'eu-zurich-1',
      name: 'Zurich',
      status: 'active',
      port: 0,
    })
    const endpoint = added.json.endpoint as string
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(server.endpoint('eu-zurich-1')).toBe(endpoint)

    const s3 = s3For(server, 'eu-zurich-1')
    await s3.send(new CreateBucketCommand({ Bucket: 'zurich-data' }))
    await s3.send(new PutObjectCommand({ Bucket: 'zurich-data', Key: 'k', Body: 'grüezi' }))
    const got = await s3.send(new GetObjectCommand({ Bucket: 'zurich-data', Key: 'k' }))
    expect(await got.Body?.transformToString()).toBe('grüezi')
    // The other data centers redirect to it, as to any other home.
    const elsewhere = await s3Error(
      s3For(server, 'us-west-1').send(new GetObjectCommand({ Bucket: 'zurich-data', Key: 'k' })),
    )
    expect(elsewhere.$metadata.httpStatusCode).toBe(301)

    const drained = await adminCall(admin, '/admin/v1/data-centers/eu-zurich-1/drain', {
      method: 'POST',
      token,
    })
    expect([drained.status, drained.json.status]).toEqual([200, 'draining'])
    const refused = await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'zurich-more' })))
    expect([refused.name, refused.$metadata.httpStatusCode]).toEqual([
      'IllegalLocationConstraintException',
      400,
    ])
    expect(refused.message).toContain('draining')
    const still = await s3.send(new GetObjectCommand({ Bucket: 'zurich-data', Key: 'k' }))
    expect(await still.Body?.transformToString()).toBe('grüezi')
    await s3.send(new PutObjectCommand({ Bucket: 'zurich-data', Key: 'k2', Body: 'more' }))

    const busy = await adminCall(admin, '/admin/v1/data-centers/eu-zurich-1/retire', {
      method: 'POST',
      token,
    })
    expect([busy.status, busy.json.code]).toEqual([409, 'DataCenterNotEmpty'])
    expect((await catalog()).find((d) => d.id === 'eu-zurich-1')?.status).toBe('draining')

    await s3.send(new DeleteObjectCommand({ Bucket: 'zurich-data', Key: 'k' }))
    await s3.send(new DeleteObjectCommand({ Bucket: 'zurich-data', Key: 'k2' }))
    await s3.send(new DeleteBucketCommand({ Bucket: 'zurich-data' }))
    const retired = await adminCall(admin, '/admin/v1/data-centers/eu-zurich-1/retire', {
      method: 'POST',
      token,
    })
    expect([retired.status, retired.json.status, retired.json.endpoint]).toEqual([
      200,
      'retired',
      null,
    ])
    await expect(fetch(`${endpoint}/`)).rejects.toThrow()
    expect(server.sovra.dataCenters.map((d) => d.id)).not.toContain('eu-zurich-1')
    const again = await adminCall(admin, '/admin/v1/data-centers/eu-zurich-1/activate', {
      method: 'POST',
      token,
    })
    expect([again.status, again.json.code]).toEqual([409, 'InvalidStatusTransition'])
  })

  it('adds a planned data center that refuses buckets until it is activated', async () => {
    const port = await freePort()
    const added = await adminCall(admin, '/admin/v1/data-centers', {
      token,
      body: {
        id: 'eu-geneva-1',
        name: 'Geneva',
        city: 'Geneva',
        jurisdiction: 'CH',
        port,
        status: 'planned',
      },
    })
    expect([added.status, added.json.status, added.json.endpoint]).toEqual([
      201,
      'planned',
      `http://127.0.0.1:${port}`,
    ])
    const s3 = s3For(server, 'eu-geneva-1')
    const refused = await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'geneva-data' })))
    expect(refused.name).toBe('IllegalLocationConstraintException')
    const drain = await adminCall(admin, '/admin/v1/data-centers/eu-geneva-1/drain', {
      method: 'POST',
      token,
    })
    expect([drain.status, drain.json.code]).toEqual([409, 'InvalidStatusTransition'])
    const active = await adminCall(admin, '/admin/v1/data-centers/eu-geneva-1/activate', {
      method: 'POST',
      token,
    })
    expect(active.json.status).toBe('active')
    await s3.send(new CreateBucketCommand({ Bucket: 'geneva-data' }))
    // Both changes are in the directory's public log, made by the operator.
    const changes = await dcChanges('eu-geneva-1', 2)
    expect(changes.map((e) => [e.change, e.status, e.target, e.jurisdiction])).toEqual([
      ['added', 'planned', 'eu-geneva-1', 'CH'],
      ['status', 'active', 'eu-geneva-1', 'CH'],
    ])
    expect(changes[0]?.actor).toMatchObject({ kind: 'operator', operator: 'operator-token' })
    expect(JSON.stringify(changes)).not.toContain(token)
  })

  it('refuses invalid ids, duplicate ids and ports, busy ports and unknown jurisdictions, changing nothing', async () => {
    const geneva = (await catalog()).find((d) => d.id === 'eu-geneva-1')
    const adminPort = Number(new URL(admin).port)
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const busyPort = (busy.address() as { port: number }).port
    const base = { city: 'Bern', jurisdiction: 'CH', port: 0 }
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ ...base, id: 'Bern 1' }, 400, 'ValidationFailed'],
      [{ ...base, id: '../us-west-1' }, 400, 'ValidationFailed'],
      [{ ...base, id: 'us-west-1' }, 409, 'DataCenterAlreadyExists'],
      [{ ...base, id: 'eu-zurich-1' }, 409, 'DataCenterAlreadyExists'],
      [{ ...base, id: 'eu-bern-1', port: geneva?.port }, 409, 'PortInUse'],
      [{ ...base, id: 'eu-bern-1', port: adminPort }, 409, 'PortInUse'],
      [{ ...base, id: 'eu-bern-1', port: busyPort }, 409, 'PortInUse'],
      [{ ...base, id: 'eu-bern-1', jurisdiction: 'EU' }, 400, 'UnknownJurisdiction'],
      [{ ...base, id: 'eu-bern-1', jurisdiction: 'ch' }, 400, 'ValidationFailed'],
      [{ ...base, id: 'eu-bern-1', port: 65536 }, 400, 'ValidationFailed'],
      [{ ...base, id: 'eu-bern-1', status: 'retired' }, 400, 'ValidationFailed'],
      [{ ...base, id: 'eu-bern-1', storage: 's3' }, 400, 'ValidationFailed'],
    ]
    try {
      const before = await catalog()
      for (const [body, status, code] of cases) {
        const res = await adminCall(admin, '/admin/v1/data-centers', { token, body })
        expect([JSON.stringify(body), res.status, res.json.code]).toEqual([
          JSON.stringify(body),
          status,
          code,
        ])
        expect(typeof res.json.message).toBe('string')
      }
      expect(await catalog()).toEqual(before)
      expect(existsSync(join(server.dataDir, 'dcs', 'eu-bern-1'))).toBe(false)
      const invalid = await adminCall(admin, '/admin/v1/data-centers', {
        token,
        body: { ...base, id: 'Bern 1', port: -1 },
      })
      expect(
        (invalid.json.issues as Array<{ path: string[] }>).map((i) => i.path.join('.')).sort(),
      ).toEqual(['body.id', 'body.port'])
      const unknown = await adminCall(admin, '/admin/v1/data-centers/xx-none-1/drain', {
        method: 'POST',
        token,
      })
      expect([unknown.status, unknown.json.code]).toEqual([404, 'NoSuchDataCenter'])
    } finally {
      await new Promise((resolve) => busy.close(resolve))
    }
  })
})

describe('admin API: concurrent changes', () => {
  it('lets exactly one of two simultaneous adds of the same id or port win', async () => {
    const port = await freePort()
    const add = (id: string, p: number) =>
      adminCall(admin, '/admin/v1/data-centers', {
        token,
        body: { id, city: 'Lausanne', jurisdiction: 'CH', port: p },
      })
    const sameId = await Promise.all([add('eu-lausanne-1', 0), add('eu-lausanne-1', 0)])
    expect(sameId.map((r) => r.status).sort()).toEqual([201, 409])
    const samePort = await Promise.all([add('eu-lugano-1', port), add('eu-lucerne-1', port)])
    expect(samePort.map((r) => [r.status, r.json.code ?? 'ok']).sort()).toEqual([
      [201, 'ok'],
      [409, 'PortInUse'],
    ])
  })
})

describe('admin API: the directory is the catalog across restarts', () => {
  let directory: Directory | undefined
  afterAll(async () => {
    await directory?.close()
  })

  it('restarts run-time data centers with their status, and prints no new token', async () => {
    await adminCall(admin, '/admin/v1/data-centers/ap-northeast-1/drain', {
      method: 'POST',
      token,
    })
    const dataDir = server.dataDir
    await server.sovra.stop()
    const again = await startSovra({ dataDir })
    try {
      expect(again.sovra.operatorToken).toBeNull()
      const dcs = (await adminCall(again.sovra.adminEndpoint, '/admin/v1/data-centers')).json
        .dataCenters as Array<{ id: string; status: string; endpoint: string | null }>
      const status = Object.fromEntries(dcs.map((d) => [d.id, d.status]))
      expect(status).toMatchObject({
        'ap-northeast-1': 'draining',
        'eu-zurich-1': 'retired',
        'eu-geneva-1': 'active',
      })
      expect(dcs.find((d) => d.id === 'eu-zurich-1')?.endpoint).toBeNull()
      const geneva = s3For(again, 'eu-geneva-1')
      await geneva.send(new PutObjectCommand({ Bucket: 'geneva-data', Key: 'k', Body: 'v' }))
      const ok = await adminCall(again.sovra.adminEndpoint, '/admin/v1/data-centers', {
        token,
        body: { id: 'eu-basel-1', city: 'Basel', jurisdiction: 'CH', port: 0 },
      })
      expect(ok.status).toBe(201)
      directory = await openDirectory({ dataDir })
      expect((await directory.getDataCenter('eu-basel-1'))?.status).toBe('active')
    } finally {
      await again.stop()
    }
  })
})
