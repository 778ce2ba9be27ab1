// Load generator, run as a child pinned to its own core by s3-bench.ts:
//   taskset -c 1 node --import tsx bench/load.ts '<json task>'
// Prints one JSON result line on stdout. A lean signed node:http client (keep-alive agent,
// UNSIGNED-PAYLOAD, cached signing key), or wrk replaying presigned requests for small objects.
import { spawn } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Creds, encodeQuery, Signer } from './sign.js'

export interface Target {
  readonly host: string
  readonly port: number
  readonly bucket: string
  readonly creds: Creds
}

export type Task =
  | { kind: 'createBucket'; target: Target }
  | {
      /** Creates `target.bucket` and turns on versioning or sets a bucket policy (s3-bench variants). */
      kind: 'configureBucket'
      target: Target
      setup: 'versioning' | 'policy'
    }
  | {
      kind: 'ops'
      target: Target
      op: 'put' | 'get'
      size: number
      prefix: string
      /** GET: keys 0..keyCount-1 exist. PUT: keys are numbered upward from 0 (wrapping at keyCount). */
      keyCount: number
      concurrency: number
      warmupMs: number
      durationMs: number
    }
  | {
      kind: 'wrk'
      target: Target
      op: 'put' | 'get'
      size: number
      prefix: string
      keyCount: number
      concurrency: number
      warmupMs: number
      durationMs: number
    }
  | {
      kind: 'populate'
      target: Target
      prefix: string
      count: number
      size: number
      concurrency: number
    }
  | {
      kind: 'list'
      target: Target
      prefix: string
      total: number
      maxKeys: number
      maxRequests: number
      maxMs: number
      warmup: number
    }
  | { kind: 'bigPut'; target: Target; key: string; size: number }
  | { kind: 'bigGet'; target: Target; key: string }

export const keyName = (prefix: string, i: number) => `${prefix}${String(i).padStart(7, '0')}`

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx] as number
}

class Latencies {
  #buf = new Float64Array(1 << 16)
  #n = 0
  add(ms: number): void {
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2)
      next.set(this.#buf)
      this.#buf = next
    }
    this.#buf[this.#n++] = ms
  }
  get count(): number {
    return this.#n
  }
  summary(): { p50: number; p99: number; mean: number; max: number } {
    const s = this.#buf.slice(0, this.#n).sort()
    let sum = 0
    for (const v of s) sum += v
    return {
      p50: percentile(s, 50),
      p99: percentile(s, 99),
      mean: sum / Math.max(1, s.length),
      max: s[s.length - 1] ?? Number.NaN,
    }
  }
}

interface Response {
  status: number
  bytes: number
  body?: Buffer | undefined
  headers: http.IncomingHttpHeaders
}

class Client {
  readonly agent: http.Agent
  readonly signer: Signer
  readonly t: Target
  constructor(t: Target, concurrency: number) {
    this.t = t
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: concurrency,
      maxFreeSockets: concurrency,
    })
    this.signer = new Signer(t.creds, `${t.host}:${t.port}`)
  }

  objectPath(key: string): string {
    return `/${this.t.bucket}/${key}`
  }

  /** One request; `body` a Buffer (sent whole) or an async writer; `keepBody` buffers the response. */
  request(
    method: string,
    path: string,
    opts: {
      query?: string
      body?: Buffer | undefined
      length?: number
      write?: (req: http.ClientRequest) => Promise<void>
      keepBody?: boolean
      onData?: (b: Buffer) => void
      /** Unsigned extra headers (`content-md5`). */
      headers?: Record<string, string>
    } = {},
  ): Promise<Response> {
    const query = opts.query ?? ''
    const headers: Record<string, string | number> = {
      ...opts.headers,
      ...this.signer.headers(method, path, query),
    }
    const length = opts.body?.length ?? opts.length
    if (length !== undefined) headers['content-length'] = length
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.t.host,
          port: this.t.port,
          method,
          path: query === '' ? path : `${path}?${query}`,
          headers,
          agent: this.agent,
        },
        (res) => {
          let bytes = 0
          const chunks: Buffer[] = []
          const keep = opts.keepBody === true || (res.statusCode ?? 0) >= 300
          res.on('data', (c: Buffer) => {
            bytes += c.length
            if (keep) chunks.push(c)
            opts.onData?.(c)
          })
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              bytes,
              headers: res.headers,
              body: keep ? Buffer.concat(chunks) : undefined,
            }),
          )
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      // A server that stops answering must not stall the run: no bytes for 60 s fails the request.
      req.setTimeout(60_000, () =>
        req.destroy(new Error(`no response bytes for 60 s: ${method} ${path}`)),
      )
      if (opts.write !== undefined) opts.write(req).then(() => req.end(), reject)
      else req.end(opts.body)
    })
  }
}

function randomBody(size: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  randomFillSync(b)
  return b
}

async function createBucket(t: Target) {
  const c = new Client(t, 1)
  const r = await c.request('PUT', `/${t.bucket}`, { length: 0 })
  if (
    r.status !== 200 &&
    !(r.status === 409 && /BucketAlreadyOwnedByYou/.test(r.body?.toString() ?? ''))
  ) {
    throw new Error(`CreateBucket ${t.bucket}: HTTP ${r.status} ${r.body?.toString()}`)
  }
  return { ok: true }
}

/** A bucket policy whose statements every request is checked against, none of them matching. */
function benchPolicy(bucket: string): string {
  const arn = `arn:aws:s3:::${bucket}`
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyPrivatePrefix',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: `${arn}/private/*`,
      },
      {
        // The benchmark speaks plain HTTP: the condition is evaluated on every request, never true.
        Sid: 'EvaluatedOnEveryRequest',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: `${arn}/*`,
        Condition: { Bool: { 'aws:SecureTransport': 'true' } },
      },
    ],
  })
}

/**
 * Creates the bucket, then PutBucketVersioning (Enabled) or PutBucketPolicy through the signed
 * client. A refusal (a server without the feature answers NotImplemented) is a result, not a
 * failure: `{ ok: false, status, code }`, so the benchmark can report the variant unsupported.
 */
async function configureBucket(task: Extract<Task, { kind: 'configureBucket' }>) {
  await createBucket(task.target)
  const c = new Client(task.target, 1)
  const body = Buffer.from(
    task.setup === 'versioning'
      ? '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>'
      : benchPolicy(task.target.bucket),
  )
  const r = await c.request('PUT', `/${task.target.bucket}`, {
    query: encodeQuery({ [task.setup]: '' }),
    body,
    headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
  })
  if (r.status >= 200 && r.status < 300) return { ok: true }
  const text = r.body?.toString() ?? ''
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${r.status}`
  return { ok: false, status: r.status, code }
}

/** Time-bounded closed loop: `concurrency` workers, each issuing its next request when the last ends. */
async function ops(task: Extract<Task, { kind: 'ops' }>) {
  const c = new Client(task.target, task.concurrency)
  const body = task.op === 'put' ? randomBody(task.size) : undefined
  let next = 0
  let errors = 0
  let firstError = ''
  const run = async (untilMs: number, lat: Latencies | null) => {
    let bytes = 0
    let count = 0
    const worker = async () => {
      while (performance.now() < untilMs) {
        const i = next++ % task.keyCount
        const path = c.objectPath(keyName(task.prefix, i))
        const t0 = performance.now()
        let r: Response
        try {
          r = await c.request(task.op === 'put' ? 'PUT' : 'GET', path, { body })
        } catch (err) {
          errors++
          if (firstError === '')
            firstError = `${(err as Error).message} (after ${((performance.now() - t0) / 1000).toFixed(1)} s)`
          continue
        }
        const dt = performance.now() - t0
        if (r.status !== 200 || (task.op === 'get' && r.bytes !== task.size)) {
          errors++
          if (firstError === '')
            firstError = `HTTP ${r.status} ${r.bytes}B ${r.body?.toString().slice(0, 300)}`
          continue
        }
        lat?.add(dt)
        count++
        bytes += task.size
      }
    }
    const t0 = performance.now()
    await Promise.all(Array.from({ length: task.concurrency }, worker))
    return { bytes, count, seconds: (performance.now() - t0) / 1000 }
  }
  const warmupOps =
    task.warmupMs > 0 ? (await run(performance.now() + task.warmupMs, null)).count : 0
  const lat = new Latencies()
  const { bytes, seconds } = await run(performance.now() + task.durationMs, lat)
  const s = lat.summary()
  c.agent.destroy()
  return {
    client: 'node:http',
    ops: lat.count,
    seconds,
    opsPerSec: lat.count / seconds,
    MBps: bytes / seconds / 1e6,
    p50ms: s.p50,
    p99ms: s.p99,
    meanMs: s.mean,
    maxMs: s.max,
    errors,
    firstError,
    keysTouched: Math.min(next, task.keyCount),
    warmupOps,
  }
}

const WRK_LUA = fileURLToPath(new URL('./wrk-replay.lua', import.meta.url))

function runWrk(
  host: string,
  port: number,
  file: string,
  method: string,
  size: number,
  concurrency: number,
  seconds: number,
  offset: number,
) {
  return new Promise<Record<string, number>>((resolve, reject) => {
    const args = [
      '-t1',
      `-c${concurrency}`,
      `-d${seconds}s`,
      '--timeout',
      '30s',
      '-s',
      WRK_LUA,
      `http://${host}:${port}/`,
      '--',
      file,
      method,
      String(size),
      String(offset),
    ]
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('error', reject)
    p.on('close', (code) => {
      const m = /WRKJSON (\{.*\})/.exec(out)
      if (code !== 0 || m === null) reject(new Error(`wrk exited ${code}: ${out} ${err}`))
      else resolve(JSON.parse(m[1] as string))
    })
  })
}

/** Presigns one request per key (in this process, before timing) and replays them with wrk. */
async function wrk(task: Extract<Task, { kind: 'wrk' }>) {
  const signer = new Signer(task.target.creds, `${task.target.host}:${task.target.port}`)
  const method = task.op === 'put' ? 'PUT' : 'GET'
  const lines: string[] = []
  for (let i = 0; i < task.keyCount; i++)
    lines.push(signer.presign(method, `/${task.target.bucket}/${keyName(task.prefix, i)}`))
  const file = join(tmpdir(), `sovra-bench-wrk-${process.pid}.txt`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  const size = task.op === 'put' ? task.size : 0
  const { host, port } = task.target
  let offset = 0
  if (task.warmupMs > 0) {
    const w = await runWrk(
      host,
      port,
      file,
      method,
      size,
      task.concurrency,
      Math.max(1, Math.round(task.warmupMs / 1000)),
      0,
    )
    offset = w.requests ?? 0
  }
  const r = await runWrk(
    host,
    port,
    file,
    method,
    size,
    task.concurrency,
    Math.max(1, Math.round(task.durationMs / 1000)),
    offset,
  ).finally(() => rmSync(file, { force: true }))
  const seconds = (r.duration_us ?? 0) / 1e6
  const bad =
    (r.status_errors ?? 0) + (r.connect ?? 0) + (r.read ?? 0) + (r.write ?? 0) + (r.timeout ?? 0)
  const good = (r.requests ?? 0) - (r.status_errors ?? 0)
  return {
    client: 'wrk',
    ops: good,
    seconds,
    opsPerSec: good / seconds,
    MBps: (good * task.size) / seconds / 1e6,
    p50ms: (r.p50_us ?? 0) / 1000,
    p99ms: (r.p99_us ?? 0) / 1000,
    meanMs: (r.mean_us ?? 0) / 1000,
    maxMs: (r.max_us ?? 0) / 1000,
    errors: bad,
    firstError: bad > 0 ? JSON.stringify(r) : '',
    keysTouched: Math.min(task.keyCount, offset + (r.requests ?? 0)),
    warmupOps: offset,
  }
}

async function populate(task: Extract<Task, { kind: 'populate' }>) {
  const c = new Client(task.target, task.concurrency)
  const body = randomBody(task.size)
  let next = 0
  let errors = 0
  let firstError = ''
  const t0 = performance.now()
  const worker = async () => {
    while (next < task.count) {
      const i = next++
      for (let attempt = 0; ; attempt++) {
        const r = await c.request('PUT', c.objectPath(keyName(task.prefix, i)), { body })
        if (r.status === 200) break
        errors++
        if (firstError === '') firstError = `HTTP ${r.status} ${r.body?.toString().slice(0, 300)}`
        if (attempt >= 3) throw new Error(`populate ${task.prefix}${i}: ${firstError}`)
      }
    }
  }
  await Promise.all(Array.from({ length: task.concurrency }, worker))
  const seconds = (performance.now() - t0) / 1000
  c.agent.destroy()
  return { count: task.count, seconds, opsPerSec: task.count / seconds, errors, firstError }
}

async function list(task: Extract<Task, { kind: 'list' }>) {
  const c = new Client(task.target, 1)
  const lat = new Latencies()
  let errors = 0
  let firstError = ''
  let rng = 12345
  const rand = () => {
    rng = (rng * 1103515245 + 12345) & 0x7fffffff
    return rng / 0x7fffffff
  }
  const one = async (measure: boolean, first: boolean) => {
    const params: Record<string, string> = {
      'list-type': '2',
      'max-keys': String(task.maxKeys),
      prefix: task.prefix,
    }
    if (!first)
      params['start-after'] = keyName(
        task.prefix,
        Math.floor(rand() * Math.max(1, task.total - task.maxKeys - 1)),
      )
    const t0 = performance.now()
    const r = await c.request('GET', `/${task.target.bucket}`, {
      query: encodeQuery(params),
      keepBody: true,
    })
    const dt = performance.now() - t0
    const keys = (r.body?.toString().match(/<Key>/g) ?? []).length
    if (r.status !== 200 || keys !== Math.min(task.maxKeys, task.total)) {
      errors++
      if (firstError === '')
        firstError = `HTTP ${r.status}, ${keys} keys: ${r.body?.toString().slice(0, 300)}`
      return
    }
    if (measure) lat.add(dt)
  }
  for (let i = 0; i < task.warmup; i++) await one(false, i === 0)
  const t0 = performance.now()
  let n = 0
  while (n < task.maxRequests && (performance.now() - t0 < task.maxMs || n < 5)) {
    await one(true, n === 0)
    n++
  }
  const s = lat.summary()
  c.agent.destroy()
  return {
    requests: lat.count,
    p50ms: s.p50,
    p99ms: s.p99,
    meanMs: s.mean,
    maxMs: s.max,
    errors,
    firstError,
    bucketKeys: task.total,
  }
}

/** Streams `size` bytes from a generator (a 1 MiB random block repeated), hashing what is sent. */
async function bigPut(task: Extract<Task, { kind: 'bigPut' }>) {
  const c = new Client(task.target, 1)
  const block = randomBody(1 << 20)
  const hash = createHash('sha256')
  const t0 = performance.now()
  const r = await c.request('PUT', c.objectPath(task.key), {
    length: task.size,
    write: async (req) => {
      let sent = 0
      while (sent < task.size) {
        const n = Math.min(block.length, task.size - sent)
        const chunk = n === block.length ? block : block.subarray(0, n)
        hash.update(chunk)
        sent += n
        if (!req.write(chunk)) await new Promise((res) => req.once('drain', res))
      }
    },
  })
  const seconds = (performance.now() - t0) / 1000
  c.agent.destroy()
  if (r.status !== 200)
    throw new Error(`big PUT: HTTP ${r.status} ${r.body?.toString().slice(0, 300)}`)
  return { bytes: task.size, seconds, MBps: task.size / seconds / 1e6, sha256: hash.digest('hex') }
}

/** Streams the object into a hash; nothing is buffered. */
async function bigGet(task: Extract<Task, { kind: 'bigGet' }>) {
  const c = new Client(task.target, 1)
  const hash = createHash('sha256')
  const t0 = performance.now()
  const r = await c.request('GET', c.objectPath(task.key), { onData: (b) => hash.update(b) })
  const seconds = (performance.now() - t0) / 1000
  c.agent.destroy()
  if (r.status !== 200)
    throw new Error(`big GET: HTTP ${r.status} ${r.body?.toString().slice(0, 300)}`)
  return { bytes: r.bytes, seconds, MBps: r.bytes / seconds / 1e6, sha256: hash.digest('hex') }
}

async function main() {
  const task = JSON.parse(process.argv[2] as string) as Task
  let result: unknown
  switch (task.kind) {
    case 'configureBucket':
      result = await configureBucket(task)
      break
    case 'createBucket':
      result = await createBucket(task.target)
      break
    case 'ops':
      result = await ops(task)
      break
    case 'wrk':
      result = await wrk(task)
      break
    case 'populate':
      result = await populate(task)
      break
    case 'list':
      result = await list(task)
      break
    case 'bigPut':
      result = await bigPut(task)
      break
    case 'bigGet':
      result = await bigGet(task)
      break
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`)
    process.exit(1)
  })
}
