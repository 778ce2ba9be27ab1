import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { hashOperatorToken, signRequestHeaders } from '../access/index.js'
import { createLogger } from '../core/index.js'
import { DirectoryErrors } from '../directory/index.js'
import { defineRoute } from './route.js'
import { createAdminRouter } from './router.js'

const TOKEN = 'sovra_op_router-test-token-0123456789abcdef'
const KEY = {
  accessKeyId: 'SVRATESTKEY000000001',
  secretAccessKey: 'tenant-secret-0123456789abcdefghijklmno',
}
const logs: string[] = []

const routes = [
  defineRoute({
    method: 'GET',
    path: '/things/{id}',
    operationId: 'getThing',
    summary: 'A thing',
    tag: 'things',
    auth: 'public',
    params: z.strictObject({ id: z.string().regex(/^[a-z]+$/) }),
    query: z.strictObject({ verbose: z.enum(['yes', 'no']).optional() }),
    response: z.object({ id: z.string(), verbose: z.boolean() }),
    handler: async ({ params, query }) => ({ id: params.id, verbose: query.verbose === 'yes' }),
  }),
  defineRoute({
    method: 'POST',
    path: '/things',
    operationId: 'addThing',
    summary: 'Add a thing',
    tag: 'things',
    auth: 'operator',
    body: z.strictObject({ name: z.string().min(1), port: z.int().min(0).max(65535) }),
    response: z.object({ name: z.string(), port: z.number() }),
    status: 201,
    handler: async ({ body }) => {
      if (body.name === 'taken') throw DirectoryErrors.portInUse(body.port, 'us-west-1')
      if (body.name === 'boom') throw new Error('secret internal detail')
      if (body.name === 'liar') return { name: 42 } as unknown as { name: string; port: number }
      return body
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/whoami',
    operationId: 'whoAmI',
    summary: 'The calling tenant',
    tag: 'tenant',
    auth: 'tenant',
    body: z.object({ note: z.string() }).optional(),
    response: z.object({ tenant: z.string(), key: z.string() }),
    handler: async ({ principal }) => ({
      tenant: principal.tenant.name,
      key: principal.accessKeyId,
    }),
  }),
]

let server: Server
let base: string

beforeAll(async () => {
  const router = createAdminRouter(routes, {
    logger: createLogger(
      'info',
      new Writable({
        write(chunk, _e, cb) {
          logs.push(String(chunk))
          cb()
        },
      }),
    ),
    auth: {
      operatorToken: {
        matches: (t) => hashOperatorToken(t) === hashOperatorToken(TOKEN),
      },
      directory: {
        lookupAccessKey: async (id) =>
          id === KEY.accessKeyId ? { tenantId: 't-1', secretAccessKey: KEY.secretAccessKey } : null,
        getTenant: async (id) =>
          id === 't-1'
            ? { id: 't-1', name: 'acme', canonicalId: 'c'.repeat(64), admin: false }
            : null,
      },
      regions: () => ['us-west-1'],
      maxClockSkewMs: 900_000,
      now: Date.now,
    },
  })
  server = createServer((req, res) => {
    if (!router(req, res)) {
      res.writeHead(418)
      res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

async function call(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, init)
  const text = await res.text()
  return { status: res.status, headers: res.headers, json: text === '' ? {} : JSON.parse(text) }
}

function signed(path: string, body: string, key = KEY) {
  const headers = signRequestHeaders({
    method: 'POST',
    url: `${base}${path}`,
    headers: { 'content-type': 'application/json' },
    body,
    ...key,
    region: 'us-east-1',
    now: Date.now(),
  }).headers
  return { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body }
}

const operator = (body: unknown, token = TOKEN) => ({
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('createAdminRouter()', () => {
  it('passes over paths no route declares', async () => {
    expect((await call('/nothing/here')).status).toBe(418)
  })

  it('validates path and query parameters with the route schemas', async () => {
    const ok = await call('/things/abc?verbose=yes')
    expect([ok.status, ok.json]).toEqual([200, { id: 'abc', verbose: true }])
    expect(ok.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const bad = await call('/things/ABC?verbose=maybe&extra=1')
    expect(bad.status).toBe(400)
    expect(bad.json.code).toBe('ValidationFailed')
    const paths = (bad.json.issues as Array<{ path: unknown[] }>).map((i) => i.path.join('.'))
    expect(paths).toEqual(['params.id', 'query.verbose', 'query'])
  })

  it('answers 405 with Allow for a known path and another method', async () => {
    const res = await call('/things/abc', { method: 'DELETE' })
    expect([res.status, res.json.code, res.headers.get('allow')]).toEqual([
      405,
      'MethodNotAllowed',
      'GET',
    ])
  })

  it('refuses an operator route without a token (401), with a wrong one (401), and to a tenant (403)', async () => {
    const none = await call('/things', { method: 'POST', body: '{}' })
    expect([none.status, none.json.code]).toEqual([401, 'Unauthenticated'])
    expect(none.headers.get('www-authenticate')).toContain('Bearer')
    const wrong = await call('/things', operator({ name: 'x', port: 1 }, `${TOKEN}x`))
    expect([wrong.status, wrong.json.code]).toEqual([401, 'Unauthenticated'])
    const basic = await call('/things', {
      ...operator({ name: 'x', port: 1 }),
      headers: { authorization: `Basic ${Buffer.from(`op:${TOKEN}`).toString('base64')}` },
    })
    expect(basic.status).toBe(401)
    const tenant = await call('/things', signed('/things', JSON.stringify({ name: 'x', port: 1 })))
    expect([tenant.status, tenant.json.code]).toEqual([403, 'Forbidden'])
  })

  it('runs the handler with the validated body and answers the declared status', async () => {
    const res = await call('/things', operator({ name: 'thing', port: 9010 }))
    expect([res.status, res.json]).toEqual([201, { name: 'thing', port: 9010 }])
  })

  it('reports every invalid body field with its path, and bad JSON and media types', async () => {
    const res = await call('/things', operator({ name: '', port: 70000, color: 'red' }))
    expect(res.status).toBe(400)
    const issues = res.json.issues as Array<{ path: unknown[]; message: string }>
    expect(issues.map((i) => i.path.join('.')).sort()).toEqual(['body', 'body.name', 'body.port'])
    expect(res.json.message).toMatch(/^Invalid request: /)
    const json = await call('/things', { ...operator({}), body: '{"name":' })
    expect([json.status, json.json.code]).toEqual([400, 'InvalidJson'])
    const type = await call('/things', {
      ...operator({}),
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
    })
    expect([type.status, type.json.code]).toEqual([415, 'UnsupportedMediaType'])
    const big = await call('/things', {
      ...operator({}),
      body: `"${'x'.repeat(1024 * 1024 + 10)}"`,
    })
    expect([big.status, big.json.code]).toEqual([413, 'PayloadTooLarge'])
  })

  it('maps domain errors to their status and hides internal ones', async () => {
    const taken = await call('/things', operator({ name: 'taken', port: 9002 }))
    expect([taken.status, taken.json.code]).toEqual([409, 'PortInUse'])
    expect(taken.json.message).toBe('Cannot use port "9002": it belongs to "us-west-1"')
    const boom = await call('/things', operator({ name: 'boom', port: 1 }))
    expect([boom.status, boom.json.code]).toEqual([500, 'InternalError'])
    expect(JSON.stringify(boom.json)).not.toContain('secret internal detail')
    expect(logs.join('')).toContain('secret internal detail')
    // A handler that breaks its response schema is a server bug, never sent as is.
    const liar = await call('/things', operator({ name: 'liar', port: 1 }))
    expect([liar.status, liar.json.code]).toEqual([500, 'InternalError'])
  })

  it('authenticates tenants by SigV4, checking the body hash, and never logs the token', async () => {
    const body = JSON.stringify({ note: 'hi' })
    const ok = await call('/whoami', signed('/whoami', body))
    expect([ok.status, ok.json]).toEqual([200, { tenant: 'acme', key: KEY.accessKeyId }])
    const tampered = signed('/whoami', body)
    const changed = await call('/whoami', { ...tampered, body: JSON.stringify({ note: 'ho' }) })
    expect([changed.status, changed.json.code]).toEqual([400, 'XAmzContentSHA256Mismatch'])
    const wrongKey = await call(
      '/whoami',
      signed('/whoami', body, {
        ...KEY,
        secretAccessKey: 'not-the-secret-0123456789abcdefghijklmn',
      }),
    )
    expect([wrongKey.status, wrongKey.json.code]).toEqual([401, 'SignatureDoesNotMatch'])
    const unknown = await call(
      '/whoami',
      signed('/whoami', body, { ...KEY, accessKeyId: 'SVRAUNKNOWNKEY000001' }),
    )
    expect([unknown.status, unknown.json.code]).toEqual([401, 'InvalidAccessKeyId'])
    const anonymous = await call('/whoami', { method: 'POST' })
    expect([anonymous.status, anonymous.json.code]).toEqual([401, 'Unauthenticated'])
    const bearer = await call('/whoami', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect([bearer.status, bearer.json.code]).toEqual([403, 'Forbidden'])
    expect(logs.join('')).not.toContain(TOKEN)
    expect(logs.join('')).not.toContain(KEY.secretAccessKey)
  })
})

describe('defineRoute()', () => {
  it('refuses a path whose placeholders differ from its params schema', () => {
    expect(() =>
      defineRoute({
        method: 'GET',
        path: '/x/{id}',
        operationId: 'x',
        summary: 'x',
        tag: 'x',
        auth: 'public',
        params: z.object({ name: z.string() }),
        response: z.object({}),
        handler: async () => ({}),
      }),
    ).toThrow(TypeError)
  })
})
