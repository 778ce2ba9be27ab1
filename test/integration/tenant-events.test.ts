// A tenant's own events over the admin API, signed with its S3 key: found by commitment, each
// with an inclusion proof the tenant checks against the signed checkpoint itself.
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/index.js'
import {
  commit,
  leafHash,
  openCheckpoint,
  verifierFromKey,
  verifyInclusion,
} from '../../src/ledger/index.js'
import { adminCall } from '../support/admin-client.js'
import { s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
let s3: S3Client
const DC = 'us-west-1'

beforeAll(async () => {
  server = await startSovra()
  s3 = s3For(server, DC)
  await s3.send(
    new CreateBucketCommand({
      Bucket: 'audited',
      CreateBucketConfiguration: { LocationConstraint: DC },
    }),
  )
  for (const key of ['a', 'b', 'c']) {
    await s3.send(new PutObjectCommand({ Bucket: 'audited', Key: key, Body: key }))
  }
})
afterAll(async () => {
  s3?.destroy()
  await server?.stop()
})

const admin = () => server.sovra.adminEndpoint

type Page = {
  treeSize: number
  checkpoint: string | null
  events: { index: number; entry: string; proof: string[]; event: Record<string, unknown> }[]
  next: number | null
}

async function events(query: string, key: { accessKeyId: string; secretAccessKey: string } = ROOT) {
  return adminCall(admin(), `/admin/v1/tenant/events?${query}`, { sigv4: key })
}

describe('GET /admin/v1/tenant/events', () => {
  it("returns the tenant's events with proofs that verify against the signed checkpoint", async () => {
    const secret = await adminCall(admin(), '/admin/v1/tenant/ledger-secret', { sigv4: ROOT })
    expect(secret.status).toBe(200)
    const key = Buffer.from(secret.json.secret as string, 'base64')
    expect(secret.json.commitment).toBe(commit(key, secret.json.tenantId as string))

    const keys = (await adminCall(admin(), '/admin/v1/ledger/keys')).json.ledgers as {
      dc: string
      verifierKey: string
    }[]
    const verifier = verifierFromKey(keys.find((l) => l.dc === DC)?.verifierKey as string)
    let page: Page | undefined
    await expect
      .poll(
        async () => {
          const res = await events(`dc=${DC}&bucket=audited&type=object.put`)
          page = res.json as unknown as Page
          return page.events?.length
        },
        { timeout: 10_000 },
      )
      .toBe(3)
    const p = page as Page
    const { checkpoint } = openCheckpoint(p.checkpoint as string, {
      origin: verifier.name,
      logVerifiers: [verifier],
    })
    expect(Number(checkpoint.size)).toBe(p.treeSize)
    for (const e of p.events) {
      expect(e.event.key).toBe(commit(key, ['a', 'b', 'c'][p.events.indexOf(e)] as string))
      expect(
        verifyInclusion({
          index: e.index,
          size: p.treeSize,
          leafHash: leafHash(Buffer.from(e.entry, 'base64')),
          proof: e.proof.map((h) => Buffer.from(h, 'base64')),
          root: checkpoint.root,
        }),
      ).toBe(true)
    }
  })

  it('shows another tenant none of them, and refuses unsigned requests, unknown logs and sizes', async () => {
    let out = ''
    const env = { SOVRA_DATA_DIR: server.dataDir }
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => {} }, env }
    expect(await runCli(['tenant', 'create', 'other'], io)).toBe(0)
    out = ''
    expect(await runCli(['key', 'create', '--tenant', 'other', '--json'], io)).toBe(0)
    const other = JSON.parse(out) as { accessKeyId: string; secretAccessKey: string }
    await expect
      .poll(async () => (await events(`dc=${DC}`, other)).status, { timeout: 5_000 })
      .toBe(200)
    expect(((await events(`dc=${DC}`, other)).json as unknown as Page).events).toEqual([])

    expect((await adminCall(admin(), `/admin/v1/tenant/events?dc=${DC}`)).status).toBe(401)
    const unknown = await events('dc=nowhere-1')
    expect([unknown.status, unknown.json.code]).toEqual([404, 'NotFound'])
    const tooBig = await events(`dc=${DC}&treeSize=999999`)
    expect([tooBig.status, tooBig.json.code]).toEqual([400, 'ValidationFailed'])
    const badType = await events(`dc=${DC}&type=object.nope`)
    expect(badType.status).toBe(400)
  })
})
