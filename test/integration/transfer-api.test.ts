// The transfer gate over the admin API: tenants' signing keys and transfers, who may do what
// (tenant, operator, another tenant), and the CLI that calls these routes.

import { createPrivateKey } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  keygen,
  newNonce,
  signInstruction,
  type TransferInstruction,
} from '../../src/residency/index.js'
import { adminCall } from '../support/admin-client.js'
import { cliOf } from '../support/cli.js'
import { s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
let admin: string
let token: string
let rootTenantId: string
let bob: { accessKeyId: string; secretAccessKey: string }
const ROOT_ENV = {
  AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
  AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
}

beforeAll(async () => {
  server = await startSovra()
  admin = server.sovra.adminEndpoint
  token = readFileSync(join(server.dataDir, 'keys', 'operator.token'), 'utf8').trim()
  const cli = cliOf(server)
  expect((await cli(['tenant', 'create', 'bob'])).code).toBe(0)
  bob = JSON.parse((await cli(['key', 'create', '--tenant', 'bob', '--json'])).stdout)
  const me = await adminCall(admin, '/admin/v1/tenant', { sigv4: ROOT })
  rootTenantId = me.json.id as string
  await s3For(server, 'us-west-1').send(new CreateBucketCommand({ Bucket: 'api-src' }))
  await s3For(server, 'us-east-1').send(new CreateBucketCommand({ Bucket: 'api-dst' }))
})
afterAll(async () => {
  await server?.stop()
})

function instruction(overrides: Partial<TransferInstruction> = {}): TransferInstruction {
  const now = Date.now()
  return {
    type: 'sovra.transfer-instruction',
    version: 1,
    tenantId: rootTenantId,
    source: { dc: 'us-west-1', bucket: 'api-src' },
    destination: { dc: 'us-east-1', bucket: 'api-dst' },
    scope: { kind: 'prefix', prefix: 'p/' },
    operation: 'copy',
    notBefore: new Date(now - 60_000).toISOString(),
    notAfter: new Date(now + 3_600_000).toISOString(),
    nonce: newNonce(),
    ...overrides,
  }
}

describe('signing keys', () => {
  it('a tenant registers, lists and revokes its own keys; the private key never gets in', async () => {
    const pair = keygen()
    const added = await adminCall(admin, '/admin/v1/tenant/signing-keys', {
      sigv4: ROOT,
      body: { publicKey: pair.publicKeyPem },
    })
    expect(added.status).toBe(201)
    expect(added.json).toMatchObject({ keyId: pair.keyId, tenantId: rootTenantId, revokedAt: null })

    const again = await adminCall(admin, '/admin/v1/tenant/signing-keys', {
      sigv4: ROOT,
      body: { publicKey: pair.publicKeyRaw },
    })
    expect([again.status, again.json.code]).toEqual([409, 'SigningKeyAlreadyExists'])

    // A private key, PEM or base64 DER: refused with its own code, not stored, not echoed, not logged.
    const der = createPrivateKey(pair.privateKeyPem)
      .export({ format: 'der', type: 'pkcs8' })
      .toString('base64')
    for (const secret of [pair.privateKeyPem, der]) {
      const refused = await adminCall(admin, '/admin/v1/tenant/signing-keys', {
        sigv4: ROOT,
        body: { publicKey: secret },
      })
      expect([refused.status, refused.json.code]).toEqual([400, 'SigningKeyIsPrivate'])
      expect(JSON.stringify(refused.json)).not.toContain(der.slice(20))
    }
    expect(server.logs.join('\n')).not.toContain(der.slice(20))
    const junk = await adminCall(admin, '/admin/v1/tenant/signing-keys', {
      sigv4: ROOT,
      body: { publicKey: 'not a key' },
    })
    expect([junk.status, junk.json.code]).toEqual([400, 'SigningKeyInvalid'])

    // Only the tenant registers: the operator token is the wrong credential, none is 401.
    const byOperator = await adminCall(admin, '/admin/v1/tenant/signing-keys', {
      token,
      body: { publicKey: keygen().publicKeyPem },
    })
    expect([byOperator.status, byOperator.json.code]).toEqual([403, 'Forbidden'])
    const anonymous = await adminCall(admin, '/admin/v1/tenant/signing-keys', {
      body: { publicKey: keygen().publicKeyPem },
    })
    expect(anonymous.status).toBe(401)

    // Another tenant neither sees nor revokes it: 404 as for a key that does not exist.
    const bobs = await adminCall(admin, '/admin/v1/tenant/signing-keys', { sigv4: bob })
    expect(bobs.json).toEqual({ signingKeys: [] })
    const bobRevokes = await adminCall(admin, `/admin/v1/tenant/signing-keys/${pair.keyId}`, {
      sigv4: bob,
      method: 'DELETE',
    })
    expect([bobRevokes.status, bobRevokes.json.code]).toEqual([404, 'NoSuchSigningKey'])

    const revoked = await adminCall(admin, `/admin/v1/tenant/signing-keys/${pair.keyId}`, {
      sigv4: ROOT,
      method: 'DELETE',
    })
    expect(revoked.status).toBe(200)
    expect(revoked.json.revokedAt).toEqual(expect.any(String))
    const listed = await adminCall(admin, '/admin/v1/tenant/signing-keys', { sigv4: ROOT })
    expect(listed.json.signingKeys).toContainEqual(
      expect.objectContaining({ keyId: pair.keyId, revokedAt: revoked.json.revokedAt }),
    )
  })

  it('the CLI adds, lists and revokes as the tenant of AWS_ACCESS_KEY_ID; an operator revokes any key', async () => {
    const cli = cliOf(server)
    const home = join(server.dataDir, 'cli-keys')
    const made = JSON.parse(
      (await cli(['instruction', 'keygen', '--out', home, '--json'])).stdout,
    ) as { keyId: string; privateKey: string; publicKey: string }

    const refused = await cli(['tenant', 'pubkey', 'add', made.privateKey], ROOT_ENV)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('Cannot register a private key')
    const noCredentials = await cli(['tenant', 'pubkey', 'add', made.publicKey])
    expect(noCredentials.stderr).toContain('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY')

    const added = await cli(['tenant', 'pubkey', 'add', made.publicKey], ROOT_ENV)
    expect(added).toMatchObject({ code: 0, stdout: `Registered signing key "${made.keyId}"\n` })
    const list = await cli(['tenant', 'pubkey', 'list'], ROOT_ENV)
    expect(list.stdout).toMatch(new RegExp(`${made.keyId}\\s+active`))
    const asOperator = await cli(['tenant', 'pubkey', 'list', '--operator', '--tenant', 'admin'])
    expect(asOperator.stdout).toMatch(new RegExp(`${made.keyId}\\s+active`))
    // Bob's credentials list Bob's keys: none of the root tenant's.
    const bobList = await cli(['tenant', 'pubkey', 'list', '--json'], {
      AWS_ACCESS_KEY_ID: bob.accessKeyId,
      AWS_SECRET_ACCESS_KEY: bob.secretAccessKey,
    })
    expect(JSON.parse(bobList.stdout)).toEqual([])

    const revoked = await cli(['tenant', 'pubkey', 'revoke', made.keyId, '--operator'])
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked signing key "${made.keyId}"\n` })
    expect((await cli(['tenant', 'pubkey', 'list'], ROOT_ENV)).stdout).toMatch(
      new RegExp(`${made.keyId}\\s+revoked`),
    )
    // An instruction signed with the revoked key is refused with the gate's code.
    const file = join(home, 'revoked.json')
    writeFileSync(
      file,
      JSON.stringify(signInstruction(instruction(), readFileSync(made.privateKey, 'utf8'))),
    )
    const submitted = await cli(['transfer', 'submit', file], ROOT_ENV)
    expect(submitted.code).toBe(1)
    expect(submitted.stderr).toContain('(InstructionKeyRevoked)')
  })
})

describe('transfers', () => {
  const pair = keygen()
  beforeAll(async () => {
    const added = await adminCall(admin, '/admin/v1/tenant/signing-keys', {
      sigv4: ROOT,
      body: { publicKey: pair.publicKeyPem },
    })
    expect(added.status).toBe(201)
  })

  it('a tenant submits its own instruction once, and reads it; others get 404 or 403', async () => {
    const signed = signInstruction(instruction(), pair.privateKeyPem)
    const submitted = await adminCall(admin, '/admin/v1/transfers', { sigv4: ROOT, body: signed })
    expect(submitted.status).toBe(201)
    const id = submitted.json.id as string
    expect(submitted.json).toMatchObject({
      tenantId: rootTenantId,
      keyId: pair.keyId,
      operation: 'copy',
      source: { dc: 'us-west-1', bucket: 'api-src' },
      destination: { dc: 'us-east-1', bucket: 'api-dst' },
      scope: { kind: 'prefix', prefix: 'p/' },
      loggedAt: expect.any(String),
    })
    expect(submitted.json).not.toHaveProperty('signed')
    expect(JSON.stringify(submitted.json)).not.toContain(signed.signature)

    const replayed = await adminCall(admin, '/admin/v1/transfers', { sigv4: ROOT, body: signed })
    expect([replayed.status, replayed.json.code]).toEqual([409, 'InstructionReplayed'])

    const mine = await adminCall(admin, `/admin/v1/transfers/${id}`, { sigv4: ROOT })
    expect([mine.status, mine.json.id]).toEqual([200, id])
    // Bob: the same 404 as for a transfer that does not exist, and an empty list.
    const bobs = await adminCall(admin, `/admin/v1/transfers/${id}`, { sigv4: bob })
    const none = await adminCall(admin, `/admin/v1/transfers/${'0'.repeat(64)}`, { sigv4: bob })
    expect([bobs.status, bobs.json.code]).toEqual([404, 'NoSuchTransfer'])
    expect(bobs.json.message).toBe((none.json.message as string).replace('0'.repeat(64), id))
    expect((await adminCall(admin, '/admin/v1/transfers', { sigv4: bob })).json).toEqual({
      transfers: [],
    })
    const bobFilters = await adminCall(admin, '/admin/v1/transfers?tenant=admin', { sigv4: bob })
    expect([bobFilters.status, bobFilters.json.code]).toEqual([403, 'Forbidden'])

    // Bob cannot submit the root tenant's instruction (a fresh, validly signed one).
    const foreign = await adminCall(admin, '/admin/v1/transfers', {
      sigv4: bob,
      body: signInstruction(instruction(), pair.privateKeyPem),
    })
    expect([foreign.status, foreign.json.code]).toEqual([403, 'InstructionScopeMismatch'])
    // Nor can the operator submit at all.
    const byOperator = await adminCall(admin, '/admin/v1/transfers', {
      token,
      body: signInstruction(instruction(), pair.privateKeyPem),
    })
    expect([byOperator.status, byOperator.json.code]).toEqual([403, 'Forbidden'])

    // The operator reads every tenant's, or one tenant's.
    const all = await adminCall(admin, '/admin/v1/transfers', { token })
    expect((all.json.transfers as Array<{ id: string }>).map((t) => t.id)).toContain(id)
    const one = await adminCall(admin, `/admin/v1/transfers/${id}`, { token })
    expect(one.json.id).toBe(id)
    const bobOnly = await adminCall(admin, '/admin/v1/transfers?tenant=bob', { token })
    expect(bobOnly.json).toEqual({ transfers: [] })
    expect((await adminCall(admin, '/admin/v1/transfers')).status).toBe(401)
  })

  it('refuses bad documents with the gate’s precise code and status', async () => {
    const post = (body: unknown) => adminCall(admin, '/admin/v1/transfers', { sigv4: ROOT, body })
    const good = signInstruction(instruction(), pair.privateKeyPem)
    const cases: Array<[unknown, number, string]> = [
      [{ ...good, extra: 1 }, 400, 'InstructionMalformed'],
      [
        { ...good, signature: signInstruction(instruction(), pair.privateKeyPem).signature },
        403,
        'InstructionSignatureInvalid',
      ],
      [signInstruction(instruction(), keygen().privateKeyPem), 403, 'InstructionKeyUnknown'],
      [
        signInstruction(
          instruction({
            notBefore: new Date(Date.now() - 7_200_000).toISOString(),
            notAfter: new Date(Date.now() - 3_600_000).toISOString(),
          }),
          pair.privateKeyPem,
        ),
        403,
        'InstructionExpired',
      ],
      [
        signInstruction(
          instruction({ destination: { dc: 'us-east-1', bucket: 'api-nope' } }),
          pair.privateKeyPem,
        ),
        409,
        'InstructionBucketMismatch',
      ],
    ]
    for (const [body, status, code] of cases) {
      const res = await post(body)
      expect([res.status, res.json.code], code).toEqual([status, code])
    }
    const listed = await adminCall(
      admin,
      '/admin/v1/transfers?status=queued,running,done,failed&limit=1000',
      {
        sigv4: ROOT,
      },
    )
    // Nothing of the refused ones was recorded: only the one accepted by the test before.
    expect(listed.json.transfers).toHaveLength(1)
  })

  it('the CLI submits, shows and lists through the API; --operator reads any tenant', async () => {
    const cli = cliOf(server)
    const file = join(server.dataDir, 'cli-signed.json')
    writeFileSync(file, JSON.stringify(signInstruction(instruction(), pair.privateKeyPem)))
    const submitted = await cli(['transfer', 'submit', file, '--json'], ROOT_ENV)
    expect(submitted.code).toBe(0)
    const { id } = JSON.parse(submitted.stdout) as { id: string }
    const again = await cli(['transfer', 'submit', file], ROOT_ENV)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('already used (InstructionReplayed)')

    const status = await cli(['transfer', 'status', id], ROOT_ENV)
    expect(status.stdout).toContain(`Transfer   ${id}`)
    expect(status.stdout).toContain('copy us-west-1/api-src → us-east-1/api-dst')
    const list = await cli(['transfer', 'list', '--limit', '1'], ROOT_ENV)
    expect(list.stdout).toContain(id.slice(0, 16))
    const operatorList = await cli([
      'transfer',
      'list',
      '--operator',
      '--tenant',
      'admin',
      '--json',
    ])
    expect((JSON.parse(operatorList.stdout) as Array<{ id: string }>).map((t) => t.id)).toContain(
      id,
    )
    const bobStatus = await cli(['transfer', 'status', id], {
      AWS_ACCESS_KEY_ID: bob.accessKeyId,
      AWS_SECRET_ACCESS_KEY: bob.secretAccessKey,
    })
    expect(bobStatus.code).toBe(1)
    expect(bobStatus.stderr).toContain('(NoSuchTransfer)')
    expect((await cli(['transfer', 'list', '--tenant', 'admin'], ROOT_ENV)).code).toBe(2)
  })
})
