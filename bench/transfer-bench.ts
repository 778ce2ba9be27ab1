// Transfer-gate benchmark (issue 5), in one run on one machine:
//
//   npm run bench:transfer -- [options]
//
// 1. A whole-bucket `copy` from us-west-1 to us-east-1 through the real transfer gate
//    (TransferService.submit: parse, verify the signature and the request, record, log the
//    instruction in both data centers' ledgers; then the job, up to 8 objects in flight: per
//    object decrypt at the source, encrypt under the destination's keys, fsync, read back,
//    decrypt and check size and ETag (objects of 4 MiB or more: read back while written),
//    commit, log `transfer.object` in both ledgers, record progress). Timed from submit to status `done`, with the process's CPU time (all threads)
//    per MiB beside it (`CPU ms/MiB`; cp -r runs in a child and has none), for one large
//    object (1 GiB) and for many small ones (10,000 x 16 KiB). The server runs in this process
//    (serve(), as the integration tests start it) so the bench can call the gate directly; the
//    source buckets are loaded through S3 PUTs (lean signed node:http client, not timed).
//    Beside it, in the same run, the baseline: `cp -r` of the same plaintext files (written once
//    to a temp folder on the same disk) followed by `sync`. Repetitions alternate gate, cp, gate,
//    ...; `sync` runs before each measurement so neither pays for the other's writeback. Every
//    repetition copies into a fresh destination bucket (folder).
//    And a breakdown row, "copier only": the same objects copied key by key with
//    copyObjectBetweenCells between two cells of the bench's own (no job records, no
//    `transfer.object` events), so gate - copier is what the job adds around moving the bytes.
// 2. The cost of verifying an instruction: verifyInstruction() (pure: strict parse, key lookup,
//    Ed25519 over the RFC 8785 bytes, window, nonce, data centers, buckets, request match, export
//    rule) timed per call over many iterations, for a same-jurisdiction copy (us-west-1 ->
//    us-east-1) and a cross-border one that needs a legal basis (cn-hangzhou -> ap-southeast-1).
//    The whole submit (verify + record + two durable ledger appends) is reported per repetition.
//
// Options (defaults in brackets):
//   --quick              smoke run: 64 MiB large object, 500 small objects, 1 repetition, 2,000 verifications
//   --large-mib=N        size of the large object in MiB  [1024]
//   --small-count=N      number of small objects  [10000]
//   --small-kib=N        size of each small object in KiB  [16]
//   --repeat=N           repetitions of the small transfer (median reported)  [3]
//   --repeat-large=N     repetitions of the large transfer  [3]
//   --verify-iterations=N  timed verifyInstruction calls per case  [20000]
//   --only=large,small,verify  parts to run  [all]
//   --copier=false       skip the breakdown row (copyObjectBetweenCells alone, see `openCopier`)
//   --profile=DIR        write a main-thread .cpuprofile per gate repetition to DIR
//                        (summarise with `node --import tsx bench/profile-top.ts FILE 40`)
// Output: JSON on stdout, then the tables; also bench/results/transfer-<timestamp>.json.
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import inspector from 'node:inspector'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { type Cell, createCell, encryptingWrite } from '../src/cell/index.js'
import { loadConfig } from '../src/config/index.js'
import { createLogger } from '../src/core/index.js'
import { type RunningSovra, serve } from '../src/main.js'
import type { ObjectRecord } from '../src/meta/index.js'
import {
  keygen,
  loadExportRules,
  newNonce,
  type SignedInstruction,
  signInstruction,
  type TransferInstruction,
  type TransferService,
  verifyInstruction,
} from '../src/residency/index.js'
import { copyObjectBetweenCells } from '../src/residency/transfer/object-copier.js'
import { benchOptions, table } from './report.js'
import { Signer } from './sign.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const KiB = 1024
const MiB = 1024 * KiB
/** The server's default `s3.inlineMaxBytes`: smaller objects live in the metadata row. */
const INLINE_MAX_BYTES = 65_536
const SOURCE_DC = 'us-west-1'
const DEST_DC = 'us-east-1'
const PARTS = ['large', 'small', 'verify'] as const
type Part = (typeof PARTS)[number]
const ROOT_CREDS = {
  accessKeyId: 'AKIASOVRATRANSFER001',
  secretAccessKey: 'sovra-transfer-bench-secret-0123456789ab',
}

function parseArgs(argv: string[]) {
  const {
    raw: a,
    quick,
    num,
  } = benchOptions(argv, [
    'quick',
    'large-mib',
    'small-count',
    'small-kib',
    'repeat',
    'repeat-large',
    'verify-iterations',
    'only',
    'copier',
    'profile',
  ])
  const only = (a.only ?? PARTS.join(',')).split(',').filter(Boolean) as Part[]
  for (const p of only) if (!PARTS.includes(p)) throw new Error(`Unknown part ${p}`)
  return {
    quick,
    only,
    largeBytes: Math.round(num('large-mib', quick ? 64 : 1024) * MiB),
    smallCount: Math.round(num('small-count', quick ? 500 : 10_000)),
    smallBytes: Math.round(num('small-kib', 16) * KiB),
    repeat: Math.round(num('repeat', quick ? 1 : 3)),
    repeatLarge: Math.round(num('repeat-large', quick ? 1 : 3)),
    verifyIterations: Math.round(num('verify-iterations', quick ? 2_000 : 20_000)),
    copier: a.copier !== 'false',
    /** Folder for one main-thread CPU profile per gate repetition (`--profile=DIR`), or null. */
    profileDir: a.profile === undefined ? null : a.profile,
  }
}
type Opts = ReturnType<typeof parseArgs>

const log = (msg: string) =>
  process.stderr.write(`[bench:transfer ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function syncDisks() {
  execFileSync('sync')
}

// ---------------------------------------------------------------- the server and its S3 face

interface Bench {
  readonly sovra: RunningSovra
  readonly transfers: TransferService
  readonly tenantId: string
  readonly privateKeyPem: string
  readonly s3: (dc: string) => S3
}

/** Starts Sovra in this process on free ports with a temp data folder; registers a signing key. */
async function startBench(dataDir: string): Promise<Bench> {
  const config = loadConfig({
    env: {
      SOVRA_DATA_DIR: dataDir,
      SOVRA_BASE_PORT: '0',
      SOVRA_ADMIN_PORT: '0',
      SOVRA_ROOT_ACCESS_KEY: ROOT_CREDS.accessKeyId,
      SOVRA_ROOT_SECRET_KEY: ROOT_CREDS.secretAccessKey,
    },
  })
  const sovra = await serve(config, { logger: createLogger('warn', process.stderr) })
  const transfers = sovra.transfers as TransferService
  const pair = keygen()
  const key = await transfers.addPublicKey('admin', pair.publicKeyPem)
  const clients = new Map<string, S3>()
  return {
    sovra,
    transfers,
    tenantId: key.tenantId,
    privateKeyPem: pair.privateKeyPem,
    s3(dc) {
      let c = clients.get(dc)
      if (c === undefined) {
        const endpoint = sovra.dataCenters.find((d) => d.id === dc)?.endpoint
        if (endpoint === undefined) throw new Error(`No data center ${dc}`)
        c = new S3(new URL(endpoint), dc)
        clients.set(dc, c)
      }
      return c
    },
  }
}

/** The few S3 calls the bench needs: CreateBucket and PutObject from a file. */
class S3 {
  readonly #url: URL
  readonly #signer: Signer
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 16 })

  constructor(url: URL, region: string) {
    this.#url = url
    this.#signer = new Signer({ ...ROOT_CREDS, region }, url.host)
  }

  async createBucket(bucket: string): Promise<void> {
    const r = await this.#request('PUT', `/${bucket}`, null)
    if (r.status !== 200) throw new Error(`CreateBucket ${bucket}: HTTP ${r.status} ${r.body}`)
  }

  async putFile(bucket: string, key: string, file: string, size: number): Promise<void> {
    const r = await this.#request('PUT', `/${bucket}/${key}`, { file, size })
    if (r.status !== 200) throw new Error(`PutObject ${key}: HTTP ${r.status} ${r.body}`)
  }

  close(): void {
    this.#agent.destroy()
  }

  #request(
    method: string,
    path: string,
    body: { file: string; size: number } | null,
  ): Promise<{ status: number; body: string }> {
    const headers: Record<string, string | number> = this.#signer.headers(method, path)
    headers['content-length'] = body?.size ?? 0
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.#url.hostname,
          port: this.#url.port,
          method,
          path,
          headers,
          agent: this.#agent,
        },
        (res) => {
          let text = ''
          res.on('data', (c: Buffer) => (text += c.toString('utf8')))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.slice(0, 500) }))
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      if (body === null) req.end()
      else createReadStream(body.file).on('error', reject).pipe(req)
    })
  }
}

// ---------------------------------------------------------------- the data set

interface DataSet {
  readonly name: 'large' | 'small'
  /** The plaintext files, relative to `dir`. */
  readonly files: readonly { readonly key: string; readonly size: number }[]
  readonly dir: string
  readonly bytes: number
  readonly sourceBucket: string
}

/** Writes the plaintext files once (random bytes), then PUTs each to the source bucket. */
async function makeDataSet(
  bench: Bench,
  root: string,
  name: 'large' | 'small',
  count: number,
  size: number,
): Promise<DataSet> {
  const dir = join(root, `${name}-plain`)
  await mkdir(join(dir, name), { recursive: true })
  const files: { key: string; size: number }[] = []
  const t0 = performance.now()
  if (count === 1) {
    // Written in 16 MiB random blocks: a 1 GiB Buffer is not needed.
    const key = `${name}/object-0.bin`
    const fh = await open(join(dir, key), 'w')
    for (let written = 0; written < size; ) {
      const n = Math.min(16 * MiB, size - written)
      await fh.write(randomBytes(n))
      written += n
    }
    await fh.close()
    files.push({ key, size })
  } else {
    for (let i = 0; i < count; i++) {
      const key = `${name}/${String(i).padStart(6, '0')}.bin`
      await writeFile(join(dir, key), randomBytes(size))
      files.push({ key, size })
    }
  }
  const sourceBucket = `tb-${name}-src`
  const s3 = bench.s3(SOURCE_DC)
  await s3.createBucket(sourceBucket)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const f = files[i] as { key: string; size: number }
      await s3.putFile(sourceBucket, f.key, join(dir, f.key), f.size)
    }
  }
  await Promise.all(Array.from({ length: Math.min(16, files.length) }, worker))
  log(
    `${name}: ${files.length} x ${size} B written and PUT to ${SOURCE_DC}/${sourceBucket} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  )
  return { name, files, dir, bytes: count * size, sourceBucket }
}

// ---------------------------------------------------------------- measurements

/** CPU time of this process (every thread: event loop, hashing worker, libuv pool) since `from`. */
function cpuMsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1000
}

/**
 * What a repetition cost besides time, to tell CPU from waiting and the page cache from the disk:
 * user and system CPU apart, bytes read from and written to the block devices
 * (the whole machine's, `/proc/vmstat`: a read served by the page cache counts nothing; cp's
 * child process counts too), time in GC pauses, the
 * largest RSS seen, and the page cache (`Cached`, `Dirty` of /proc/meminfo) at the start and end.
 */
interface RepCost {
  readonly userMsPerMiB: number
  readonly systemMsPerMiB: number
  readonly diskReadMiB: number
  readonly diskWriteMiB: number
  readonly gcMs: number
  readonly gcCount: number
  /** Of those, full (mark-compact) collections and their pause time. */
  readonly majorGcMs: number
  readonly majorGcCount: number
  readonly maxRssMiB: number
  /** V8 heap in use at the start and the end (MiB). */
  readonly heapMiB: readonly [number, number]
  readonly cachedMiB: readonly [number, number]
  readonly dirtyMiB: readonly [number, number]
}

/** KiB the machine read from and wrote to its block devices so far (`pgpgin`/`pgpgout`). */
function diskKiB(): { read: number; write: number } {
  try {
    const text = readFileSync('/proc/vmstat', 'utf8')
    const field = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0)
    return { read: field('pgpgin'), write: field('pgpgout') }
  } catch {
    return { read: 0, write: 0 }
  }
}

function meminfoMiB(): { cached: number; dirty: number } {
  try {
    const text = readFileSync('/proc/meminfo', 'utf8')
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) / 1024
    return { cached: Math.round(field('Cached')), dirty: Math.round(field('Dirty')) }
  } catch {
    return { cached: 0, dirty: 0 }
  }
}

/** Starts measuring a repetition; `stop(bytes)` returns its cost per MiB of `bytes`. */
function probe(): { stop(bytes: number): RepCost } {
  const cpu0 = process.cpuUsage()
  const io0 = diskKiB()
  const mem0 = meminfoMiB()
  const heap0 = process.memoryUsage().heapUsed
  let gcMs = 0
  let gcCount = 0
  let majorGcMs = 0
  let majorGcCount = 0
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration
      gcCount++
      if (
        (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR
      ) {
        majorGcMs += e.duration
        majorGcCount++
      }
    }
  })
  gc.observe({ entryTypes: ['gc'] })
  let maxRss = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, process.memoryUsage.rss())
  }, 100)
  return {
    stop(bytes) {
      clearInterval(sampler)
      gc.disconnect()
      const cpu = process.cpuUsage(cpu0)
      const io = diskKiB()
      const mem = meminfoMiB()
      const mib = bytes / MiB
      return {
        userMsPerMiB: cpu.user / 1000 / mib,
        systemMsPerMiB: cpu.system / 1000 / mib,
        diskReadMiB: Math.round((io.read - io0.read) / 1024),
        diskWriteMiB: Math.round((io.write - io0.write) / 1024),
        gcMs: Math.round(gcMs),
        gcCount,
        majorGcMs: Math.round(majorGcMs),
        majorGcCount,
        maxRssMiB: Math.round(Math.max(maxRss, process.memoryUsage.rss()) / MiB),
        heapMiB: [Math.round(heap0 / MiB), Math.round(process.memoryUsage().heapUsed / MiB)],
        cachedMiB: [mem0.cached, mem.cached],
        dirtyMiB: [mem0.dirty, mem.dirty],
      }
    },
  }
}

function describeCost(c: RepCost): string {
  return `user ${c.userMsPerMiB.toFixed(2)} + sys ${c.systemMsPerMiB.toFixed(2)} ms/MiB; disk read ${c.diskReadMiB} MiB, write ${c.diskWriteMiB} MiB; GC ${c.gcMs} ms (${c.gcCount}; full: ${c.majorGcMs} ms, ${c.majorGcCount}); max RSS ${c.maxRssMiB} MiB; heap ${c.heapMiB[0]} -> ${c.heapMiB[1]} MiB; page cache ${c.cachedMiB[0]} -> ${c.cachedMiB[1]} MiB, dirty ${c.dirtyMiB[0]} -> ${c.dirtyMiB[1]} MiB`
}

/** A main-thread CPU profile of `fn`, written to `file` (node:inspector). */
async function profiled<T>(file: string | null, fn: () => Promise<T>): Promise<T> {
  if (file === null) return fn()
  const session = new inspector.Session()
  session.connect()
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    )
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 1000 })
  await post('Profiler.start')
  try {
    return await fn()
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown }
    writeFileSync(file, JSON.stringify(profile))
    session.disconnect()
  }
}

interface GateRun {
  readonly seconds: number
  /** CPU ms of this process per MiB moved (user + system, all threads). */
  readonly cpuMsPerMiB: number
  readonly submitMs: number
  readonly objects: number
  readonly bytes: number
  readonly MBps: number
  readonly objectsPerSec: number
  readonly cost: RepCost
}

/** A signed whole-bucket copy into a fresh destination bucket, timed from submit to `done`. */
async function gateTransfer(
  bench: Bench,
  set: DataSet,
  rep: number,
  profileFile: string | null,
): Promise<GateRun> {
  const destination = `tb-${set.name}-dst-${rep}`
  await bench.s3(DEST_DC).createBucket(destination)
  const now = Date.now()
  const instruction: TransferInstruction = {
    type: 'sovra.transfer-instruction',
    version: 1,
    tenantId: bench.tenantId,
    source: { dc: SOURCE_DC, bucket: set.sourceBucket },
    destination: { dc: DEST_DC, bucket: destination },
    scope: { kind: 'bucket' },
    operation: 'copy',
    notBefore: new Date(now - 60_000).toISOString(),
    notAfter: new Date(now + 86_400_000).toISOString(),
    nonce: newNonce(),
  }
  const signed = signInstruction(instruction, bench.privateKeyPem)
  syncDisks()
  const cost = probe()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const { record, submitMs } = await profiled(profileFile, async () => {
    const record = await bench.transfers.submit(signed, 'admin')
    const submitMs = performance.now() - t0
    await bench.transfers.idle()
    return { record, submitMs }
  })
  const seconds = (performance.now() - t0) / 1000
  const cpuMs = cpuMsSince(cpu0)
  const done = await bench.transfers.status(record.id)
  if (
    done.status !== 'done' ||
    done.objectsDone !== set.files.length ||
    done.bytesDone !== set.bytes
  )
    throw new Error(
      `transfer ${record.id} ended ${done.status} with ${done.objectsDone} objects, ${done.bytesDone} bytes: ${done.error ?? ''}`,
    )
  return {
    seconds,
    cpuMsPerMiB: cpuMs / (set.bytes / MiB),
    submitMs,
    objects: done.objectsDone,
    bytes: done.bytesDone,
    MBps: done.bytesDone / seconds / 1e6,
    objectsPerSec: done.objectsDone / seconds,
    cost: cost.stop(set.bytes),
  }
}

interface CpRun {
  readonly seconds: number
  /** This process's CPU ms per MiB (null for cp, a child process). */
  readonly cpuMsPerMiB: number | null
  readonly MBps: number
  readonly objectsPerSec: number
  readonly cost?: RepCost
}

/** `cp -r` of the plaintext folder to a fresh folder on the same disk, then `sync`. */
async function cpTransfer(set: DataSet, root: string, rep: number): Promise<CpRun> {
  const target = join(root, `${set.name}-cp-${rep}`)
  syncDisks()
  const cost = probe()
  const t0 = performance.now()
  execFileSync('cp', ['-r', join(set.dir, set.name), target])
  execFileSync('sync')
  const seconds = (performance.now() - t0) / 1000
  const spent = cost.stop(set.bytes)
  await rm(target, { recursive: true, force: true })
  return {
    seconds,
    cpuMsPerMiB: null,
    MBps: set.bytes / seconds / 1e6,
    objectsPerSec: set.files.length / seconds,
    cost: spent,
  }
}

/**
 * The bytes-moving part alone, for the breakdown: two cells of our own (createCell in a temp
 * folder, not the server's) holding the same objects, copied key by key with
 * copyObjectBetweenCells, the function the job calls per object (decrypt, hash, encrypt, fsync,
 * read back and check, commit the metadata row), without the job's progress records and
 * `transfer.object` ledger events.
 */
interface Copier {
  readonly source: Cell
  readonly destination: Cell
  close(): Promise<void>
}

async function openCopier(root: string): Promise<Copier> {
  const dataDir = join(root, 'copier-data')
  const logger = createLogger('warn', process.stderr)
  const open = (id: string, city: string) =>
    createCell(
      { id, city, jurisdiction: 'US' },
      {
        dataDir,
        logger,
        ledger: { origin: `sovra.bench/ledger/${id}`, batchMaxDelayMs: 2, maxPending: 100_000 },
      },
    )
  const source = await open(SOURCE_DC, 'San Jose')
  const destination = await open(DEST_DC, 'Ashburn')
  return {
    source,
    destination,
    async close() {
      await source.close()
      await destination.close()
    },
  }
}

/** Seals the data set's files into the copier's source cell (bucket `<set>-src`). */
async function loadCopier(copier: Copier, set: DataSet): Promise<void> {
  const { source } = copier
  const bucket = `${set.name}-src`
  await source.meta.createBucket({ name: bucket, tenantId: 'bench', createdAt: Date.now() })
  for (const f of set.files) {
    const md5 = createHash('md5')
    const hashed = Readable.from(
      (async function* () {
        for await (const chunk of createReadStream(join(set.dir, f.key))) {
          md5.update(chunk as Buffer)
          yield chunk as Buffer
        }
      })(),
    )
    const inline = f.size <= INLINE_MAX_BYTES
    const sealed = await encryptingWrite(source, hashed, {
      identity: { bucket, key: f.key, versionId: null },
      provider: source.keys.dc,
      inline,
    })
    let data: ObjectRecord['data']
    if (sealed.kind === 'inline') {
      data = { kind: 'inline', bytes: sealed.bytes, wrappedKey: sealed.wrappedKey }
    } else {
      await sealed.pending.commit()
      data = {
        kind: 'blobs',
        parts: [{ ref: sealed.pending.ref, size: f.size, wrappedKey: sealed.wrappedKey }],
      }
    }
    await source.meta.putObject({
      bucket,
      key: f.key,
      versionId: null,
      size: f.size,
      etag: md5.digest('hex'),
      lastModified: Date.now(),
      headers: {},
      userMetadata: {},
      checksums: {},
      checksumType: null,
      partsCount: null,
      partSizes: null,
      encryption: { algorithm: 'AES256', kmsKeyId: null, customerKeyFingerprint: null },
      data,
    })
  }
}

/** copyObjectBetweenCells for every key, one at a time (as the job does), into a fresh bucket. */
async function copierTransfer(copier: Copier, set: DataSet, rep: number): Promise<CpRun> {
  const bucket = `${set.name}-dst-${rep}`
  await copier.destination.meta.createBucket({
    name: bucket,
    tenantId: 'bench',
    createdAt: Date.now(),
  })
  syncDisks()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (const f of set.files) {
    const out = await copyObjectBetweenCells(
      copier.source,
      copier.destination,
      { bucket: `${set.name}-src`, key: f.key },
      { bucket },
      { inlineMaxBytes: INLINE_MAX_BYTES },
    )
    if (out.kind !== 'copied') throw new Error(`copier: ${f.key} is missing`)
  }
  const seconds = (performance.now() - t0) / 1000
  const cpuMsPerMiB = cpuMsSince(cpu0) / (set.bytes / MiB)
  return {
    seconds,
    cpuMsPerMiB,
    MBps: set.bytes / seconds / 1e6,
    objectsPerSec: set.files.length / seconds,
  }
}

async function transferPart(
  bench: Bench,
  root: string,
  set: DataSet,
  repeat: number,
  copier: Copier | null,
  profileDir: string | null,
): Promise<Record<string, unknown>> {
  const gate: GateRun[] = []
  const cp: CpRun[] = []
  const copies: CpRun[] = []
  if (copier !== null) await loadCopier(copier, set)
  for (let rep = 0; rep < repeat; rep++) {
    const profileFile =
      profileDir === null ? null : join(profileDir, `gate-${set.name}-${rep + 1}.cpuprofile`)
    const g = await gateTransfer(bench, set, rep, profileFile)
    gate.push(g)
    log(
      `${set.name} #${rep + 1} gate: ${g.seconds.toFixed(2)} s, ${g.MBps.toFixed(1)} MB/s, ${g.objectsPerSec.toFixed(0)} objects/s, ${g.cpuMsPerMiB.toFixed(2)} CPU ms/MiB (submit ${g.submitMs.toFixed(1)} ms)`,
    )
    log(`${set.name} #${rep + 1} gate: ${describeCost(g.cost)}`)
    const c = await cpTransfer(set, root, rep)
    cp.push(c)
    log(
      `${set.name} #${rep + 1} cp -r + sync: ${c.seconds.toFixed(2)} s, ${c.MBps.toFixed(1)} MB/s, ${c.objectsPerSec.toFixed(0)} objects/s`,
    )
    if (c.cost !== undefined) log(`${set.name} #${rep + 1} cp -r + sync: ${describeCost(c.cost)}`)
    if (copier !== null) {
      const k = await copierTransfer(copier, set, rep)
      copies.push(k)
      log(
        `${set.name} #${rep + 1} copier only: ${k.seconds.toFixed(2)} s, ${k.MBps.toFixed(1)} MB/s, ${k.objectsPerSec.toFixed(0)} objects/s, ${(k.cpuMsPerMiB ?? 0).toFixed(2)} CPU ms/MiB`,
      )
    }
  }
  const gateMBps = median(gate.map((g) => g.MBps))
  const cpMBps = median(cp.map((c) => c.MBps))
  return {
    set: set.name,
    objects: set.files.length,
    objectBytes: set.files[0]?.size ?? 0,
    totalBytes: set.bytes,
    repeat,
    gateSeconds: median(gate.map((g) => g.seconds)),
    gateCpuMsPerMiB: median(gate.map((g) => g.cpuMsPerMiB)),
    gateMBps,
    gateObjectsPerSec: median(gate.map((g) => g.objectsPerSec)),
    gateSubmitMs: median(gate.map((g) => g.submitMs)),
    cpSeconds: median(cp.map((c) => c.seconds)),
    cpMBps,
    cpObjectsPerSec: median(cp.map((c) => c.objectsPerSec)),
    gateVsCp: gateMBps / cpMBps,
    perRepGateVsCp: gate.map((g, i) => g.MBps / (cp[i] as CpRun).MBps),
    copierSeconds: copies.length === 0 ? null : median(copies.map((c) => c.seconds)),
    copierMBps: copies.length === 0 ? null : median(copies.map((c) => c.MBps)),
    copierCpuMsPerMiB:
      copies.length === 0 ? null : median(copies.map((c) => c.cpuMsPerMiB as number)),
    copierObjectsPerSec: copies.length === 0 ? null : median(copies.map((c) => c.objectsPerSec)),
    runs: { gate, cp, copier: copies },
  }
}

/** Per-call cost of verifyInstruction (µs), after a warmup, for one instruction. */
function verifyCost(
  name: string,
  instruction: Omit<TransferInstruction, 'tenantId'>,
  iterations: number,
): Record<string, string | number> {
  const tenantId = 't-0123456789abcdef'
  const pair = keygen()
  const rules = loadExportRules()
  const ins: TransferInstruction = { ...instruction, tenantId } as TransferInstruction
  // A document as it arrives: parsed JSON, not the signer's own objects.
  const document = JSON.parse(
    JSON.stringify(signInstruction(ins, pair.privateKeyPem)),
  ) as SignedInstruction
  const jurisdictions: Record<string, string> = {
    'us-west-1': 'US',
    'us-east-1': 'US',
    'cn-hangzhou': 'CN',
    'ap-southeast-1': 'SG',
  }
  const options = {
    keys: (id: string) =>
      id === pair.keyId ? { publicKey: pair.publicKeyPem, tenantId, revoked: false } : null,
    now: new Date(),
    nonceSeen: () => false,
    dataCenters: (id: string) => {
      const j = jurisdictions[id]
      return j === undefined ? null : { status: 'active' as const, jurisdiction: j }
    },
    buckets: (bucket: string) =>
      bucket === ins.source.bucket
        ? { dc: ins.source.dc, tenantId }
        : bucket === ins.destination.bucket
          ? { dc: ins.destination.dc, tenantId }
          : null,
    exportRules: rules,
    request: {
      tenantId,
      source: ins.source,
      destination: ins.destination,
      scope: ins.scope,
      operation: ins.operation,
    },
  }
  const once = () => {
    const r = verifyInstruction(document, options)
    if (!r.ok) throw new Error(`${name}: refused: ${r.error.message}`)
  }
  for (let i = 0; i < Math.min(1000, iterations); i++) once()
  const us: number[] = []
  for (let i = 0; i < iterations; i++) {
    const t = performance.now()
    once()
    us.push((performance.now() - t) * 1000)
  }
  us.sort((x, y) => x - y)
  return {
    instruction: name,
    iterations,
    p50us: Number(percentile(us, 50).toFixed(1)),
    p99us: Number(percentile(us, 99).toFixed(1)),
    meanUs: Number((us.reduce((s, x) => s + x, 0) / us.length).toFixed(1)),
    perSec: Math.round(1e6 / percentile(us, 50)),
  }
}

function verifyPart(opts: Opts): Record<string, string | number>[] {
  const now = Date.now()
  const window = {
    notBefore: new Date(now - 60_000).toISOString(),
    notAfter: new Date(now + 86_400_000).toISOString(),
  }
  return [
    verifyCost(
      'us-west-1 -> us-east-1, copy, bucket scope',
      {
        type: 'sovra.transfer-instruction',
        version: 1,
        source: { dc: 'us-west-1', bucket: 'logs-us' },
        destination: { dc: 'us-east-1', bucket: 'logs-us-east' },
        scope: { kind: 'bucket' },
        operation: 'copy',
        nonce: newNonce(),
        ...window,
      },
      opts.verifyIterations,
    ),
    verifyCost(
      'cn-hangzhou -> ap-southeast-1, copy, 2 keys, PIPL standard contract',
      {
        type: 'sovra.transfer-instruction',
        version: 1,
        source: { dc: 'cn-hangzhou', bucket: 'orders-cn' },
        destination: { dc: 'ap-southeast-1', bucket: 'orders-sg' },
        scope: { kind: 'keys', keys: ['2025/01/a.csv', '2025/01/b.csv'] },
        operation: 'copy',
        nonce: newNonce(),
        purpose: 'Quarterly report for the Singapore office',
        legalBasis: { kind: 'CN-PIPL-standard-contract', reference: 'SC-2025-0042' },
        ...window,
      },
      opts.verifyIterations,
    ),
  ]
}

// ---------------------------------------------------------------- output

function transferRows(results: Record<string, unknown>[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = []
  for (const r of results) {
    const what = `${(r.objects as number).toLocaleString('en-US')} x ${formatBytes(r.objectBytes as number)}`
    const target = r.set === 'large' ? '>= 0.5x cp' : '(none)'
    const pass = r.set === 'large' ? ((r.gateVsCp as number) >= 0.5 ? 'PASS' : 'FAIL') : ''
    rows.push({
      transfer: what,
      'gate s': Number((r.gateSeconds as number).toFixed(2)),
      'gate MB/s': Number((r.gateMBps as number).toFixed(1)),
      'gate objects/s': rate(r.gateObjectsPerSec as number),
      'gate CPU ms/MiB': Number((r.gateCpuMsPerMiB as number).toFixed(2)),
      'cp -r s': Number((r.cpSeconds as number).toFixed(2)),
      'cp -r MB/s': Number((r.cpMBps as number).toFixed(1)),
      'cp -r objects/s': rate(r.cpObjectsPerSec as number),
      'gate/cp': Number((r.gateVsCp as number).toFixed(2)),
      'copier only MB/s': r.copierMBps === null ? '' : Number((r.copierMBps as number).toFixed(1)),
      'copier only objects/s':
        r.copierObjectsPerSec === null ? '' : rate(r.copierObjectsPerSec as number),
      'copier CPU ms/MiB':
        r.copierCpuMsPerMiB === null ? '' : Number((r.copierCpuMsPerMiB as number).toFixed(2)),
      'submit ms': Number((r.gateSubmitMs as number).toFixed(1)),
      target,
      result: pass,
    })
  }
  return rows
}

/** Objects/s: whole numbers, but 2 decimals below 10 (one 1 GiB object takes seconds). */
function rate(x: number): number {
  return x >= 10 ? Math.round(x) : Number(x.toFixed(2))
}

function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0)
    return n >= 1024 * MiB ? `${n / (1024 * MiB)} GiB` : `${n / MiB} MiB`
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`
  return `${n} B`
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  if (opts.profileDir !== null) mkdirSync(opts.profileDir, { recursive: true })
  const started = new Date()
  const root = await mkdtemp(join(os.tmpdir(), 'sovra-transfer-bench-'))
  const transfers: Record<string, unknown>[] = []
  let verify: Record<string, string | number>[] = []
  let bench: Bench | null = null
  let copier: Copier | null = null
  try {
    if (opts.only.includes('verify')) {
      log(`verifyInstruction: ${opts.verifyIterations} calls per case`)
      verify = verifyPart(opts)
    }
    if (opts.only.includes('large') || opts.only.includes('small')) {
      const dataDir = join(root, 'data')
      await mkdir(dataDir)
      bench = await startBench(dataDir)
      copier = opts.copier ? await openCopier(root) : null
      if (opts.only.includes('large')) {
        const set = await makeDataSet(bench, root, 'large', 1, opts.largeBytes)
        transfers.push(
          await transferPart(bench, root, set, opts.repeatLarge, copier, opts.profileDir),
        )
      }
      if (opts.only.includes('small')) {
        const set = await makeDataSet(bench, root, 'small', opts.smallCount, opts.smallBytes)
        transfers.push(await transferPart(bench, root, set, opts.repeat, copier, opts.profileDir))
      }
    }
  } finally {
    await copier?.close()
    if (bench !== null) {
      bench.s3(SOURCE_DC).close()
      bench.s3(DEST_DC).close()
      await bench.sovra.stop()
    }
    await rm(root, { recursive: true, force: true })
  }
  const report = {
    startedAt: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      node: process.version,
      kernel: os.release(),
      loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    },
    options: opts,
    transfers,
    verify,
  }
  const resultsDir = join(HERE, 'results')
  mkdirSync(resultsDir, { recursive: true })
  const file = join(resultsDir, `transfer-${started.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify(report)}\n\n`)
  if (transfers.length > 0) {
    process.stdout.write(
      `Transfers ${SOURCE_DC} -> ${DEST_DC} through the gate vs cp -r + sync (medians):\n${table(transferRows(transfers))}\n\n`,
    )
  }
  if (verify.length > 0) process.stdout.write(`verifyInstruction, per call:\n${table(verify)}\n\n`)
  process.stdout.write(`(full results in ${file})\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
