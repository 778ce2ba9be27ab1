// S3 benchmark: Sovra against s3rver (the baseline peer), in one run, on one machine.
//
//   npm run build && npm run bench:s3 -- [options]
//
// Servers run pinned to CPU 0 (`taskset -c 0`); this orchestrator and the load generator
// (bench/load.ts, plus wrk for 4 KiB objects) run pinned to CPU 1. Both servers are started once
// and stay up; every measurement hits one server while the other idles, repetitions alternate
// between them (Sovra, s3rver, Sovra, ...) and the page cache's dirty data is flushed (`sync`)
// before each measurement, so neither pays for the other's writeback. Results: JSON on stdout and
// in bench/results/<timestamp>.json, then a table of medians with ratios and pass/fail.
//
// Options (defaults in brackets):
//   --quick               smoke run: 1 repetition, 3 s phases, 1 GiB big object, 20k-key LIST bucket
//   --only=a,b            phases: put4k,get4k,put1m,get1m,put64m,get64m,list,big,variants  [all]
//                         variants: 4 KiB PUT and GET in a versioned bucket and in a bucket with a
//                         policy against the plain bucket, Sovra only (a bucket whose setup is
//                         refused, e.g. NotImplemented, is reported "unsupported")
//   --servers=a,b         sovra,s3rver (also sovra-reads-sync, sovra-ledger-off)  [sovra,s3rver]
//   --concurrency=N       in-flight requests for object phases  [16]
//   --duration=S          seconds per measurement of 4 KiB and 1 MiB phases  [5]
//   --duration64m=S       seconds per measurement of 64 MiB phases  [8]
//   --warmup=S            warmup seconds before each 4 KiB / 1 MiB measurement  [1]
//   --repeat=N            measurements per phase and server; the table shows medians  [3]
//   --small-client=wrk|node   4 KiB load: wrk replaying presigned requests, or the node:http client  [wrk]
//   --list-keys=N         keys in the LIST bucket  [100000]
//   --list-keys-s3rver=N  keys in s3rver's LIST bucket (labelled in the output if different)  [min(list-keys, 20000)]
//   --populate-concurrency=N  in-flight PUTs while filling the LIST bucket  [64]
//   --list-seconds=S      time budget for the LIST measurement (at most 200 requests)  [10]
//   --big-gib=G           size of the big streamed object in GiB (max 5, S3's single-PUT limit)  [5]
//   --build               run `npm run build` first (otherwise dist/ must be current)
//   --profile             run Sovra under `node --cpu-prof` (profile in bench/results/)
//   --sovra-dist=DIR      compiled Sovra to run  [dist]
//   --before-dist=DIR     compiled Sovra of an earlier commit, run as server `sovra-before`
//   --server-cpus=LIST    CPUs the servers may run on (taskset -c); the load stays on CPU 1  [0]
//   --memory              what Sovra's RSS is made of, after start-up and after each phase: the
//                         kernel's view (/proc/<pid>/status, smaps) beside V8's (heap spaces,
//                         external memory), read by bench/memory-probe/register.mjs on SIGUSR2
//   --memory-gc           with --memory: also the V8 figures right after a full GC (perturbs the
//                         run; tells garbage from live data)

import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Target, Task } from './load.js'
import { table as markdownTable } from './report.js'
import { serverNodeFlags } from './server-node-flags.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '..')
const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const PHASES = [
  'put4k',
  'get4k',
  'put1m',
  'get1m',
  'put64m',
  'get64m',
  'list',
  'big',
  'variants',
] as const
type Phase = (typeof PHASES)[number]
/**
 * `sovra` as configured by default; the variants differ by one setting, for bench/ledger-bench.ts:
 * `sovra-reads-sync` (ledger.reads=sync) and `sovra-ledger-off` (ledger.enabled=false); and, for
 * bench/keys-bench.ts, `sovra-plaintext`: the same built server with the envelope swapped out by
 * a bench-only module hook (bench/plaintext-at-rest/register.mjs; Sovra has no setting for it),
 * and `sovra-before`: the build in `--before-dist` (an earlier commit), for before/after runs.
 */
const SOVRA_VARIANTS: Record<
  string,
  { readonly env: Record<string, string>; readonly nodeArgs?: readonly string[] }
> = {
  sovra: { env: {} },
  'sovra-reads-sync': { env: { SOVRA_LEDGER_READS: 'sync' } },
  'sovra-ledger-off': { env: { SOVRA_LEDGER_ENABLED: 'false' } },
  'sovra-before': { env: {} },
  'sovra-plaintext': {
    env: {},
    nodeArgs: ['--import', join(HERE, 'plaintext-at-rest', 'register.mjs')],
  },
}
/** What bench/plaintext-at-rest/object-crypto.mjs prints when it is in place. */
const PLAINTEXT_MARK = 'bench: plaintext at rest'
/** The first bytes of every envelope (src/keys/envelope/README.md). */
const ENVELOPE_MAGIC = Buffer.from('SVRE', 'ascii')
type SovraVariant =
  | 'sovra'
  | 'sovra-reads-sync'
  | 'sovra-ledger-off'
  | 'sovra-before'
  | 'sovra-plaintext'
type ServerName = SovraVariant | 's3rver'
const SERVER_NAMES: readonly ServerName[] = [
  ...(Object.keys(SOVRA_VARIANTS) as SovraVariant[]),
  's3rver',
]

// ---------------------------------------------------------------- options
function parseArgs(argv: string[]) {
  const a: Record<string, string> = {}
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg)
    if (m === null) throw new Error(`Unknown argument ${arg}`)
    a[m[1] as string] = m[2] ?? 'true'
  }
  const quick = a.quick === 'true'
  const num = (name: string, dflt: number) => {
    const v = a[name] === undefined ? dflt : Number(a[name])
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number`)
    return v
  }
  const only = (a.only ?? PHASES.join(',')).split(',').filter(Boolean) as Phase[]
  for (const p of only)
    if (!PHASES.includes(p)) throw new Error(`Unknown phase ${p}; known: ${PHASES.join(',')}`)
  const servers = (a.servers ?? 'sovra,s3rver').split(',') as ServerName[]
  for (const name of servers)
    if (!SERVER_NAMES.includes(name))
      throw new Error(`Unknown server ${name}; known: ${SERVER_NAMES.join(',')}`)
  const listKeys = num('list-keys', quick ? 20_000 : 100_000)
  const opts = {
    quick,
    only,
    servers,
    concurrency: num('concurrency', 16),
    durationMs: num('duration', quick ? 3 : 5) * 1000,
    duration64mMs: num('duration64m', quick ? 4 : 8) * 1000,
    warmupMs: num('warmup', 1) * 1000,
    repeat: Math.max(1, Math.round(num('repeat', quick ? 1 : 3))),
    smallClient: (a['small-client'] ?? 'wrk') as 'wrk' | 'node',
    listKeys,
    // s3rver takes 100k PUTs at a few hundred per second here (> 4 min): it gets fewer keys unless asked.
    listKeysS3rver: num('list-keys-s3rver', Math.min(listKeys, 20_000)),
    populateConcurrency: num('populate-concurrency', 64),
    listMs: num('list-seconds', quick ? 5 : 10) * 1000,
    bigBytes: Math.min(5 * GiB, Math.round(num('big-gib', quick ? 1 : 5) * GiB)),
    build: a.build === 'true',
    profile: a.profile === 'true',
    sovraDist: resolve(ROOT, a['sovra-dist'] ?? 'dist'),
    beforeDist: a['before-dist'] === undefined ? null : resolve(ROOT, a['before-dist']),
    serverCpus: parseCpus(a['server-cpus'] ?? '0'),
    memory: a.memory === 'true' || a['memory-gc'] === 'true',
    memoryGc: a['memory-gc'] === 'true',
  }
  for (const k of Object.keys(a)) {
    const known = [
      'server-cpus',
      'quick',
      'only',
      'servers',
      'concurrency',
      'duration',
      'duration64m',
      'warmup',
      'repeat',
      'small-client',
      'list-keys',
      'list-keys-s3rver',
      'list-seconds',
      'big-gib',
      'build',
      'profile',
      'sovra-dist',
      'before-dist',
      'populate-concurrency',
      'memory',
      'memory-gc',
    ]
    if (!known.includes(k)) throw new Error(`Unknown option --${k}`)
  }
  return opts
}
type Opts = ReturnType<typeof parseArgs>

const log = (msg: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)

// ---------------------------------------------------------------- processes
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer()
    s.on('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => res(port))
    })
  })
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.createServer()
    s.once('error', () => res(false))
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)))
  })
}

/** A base port with `n` consecutive free ports (Sovra gives each data center the next one). */
async function freeRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    let ok = true
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i)
    if (ok) return base
  }
  throw new Error('No free port range')
}

async function waitForPort(port: number, proc: ChildProcess, what: string, timeoutMs = 30_000) {
  const t0 = Date.now()
  while (Date.now() - t0 < timeoutMs) {
    if (proc.exitCode !== null)
      throw new Error(`${what} exited with ${proc.exitCode} while starting`)
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        res(true)
      })
      s.once('error', () => res(false))
    })
    if (ok) return
    await sleep(100)
  }
  throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Server {
  readonly name: ServerName
  readonly proc: ChildProcess
  readonly pid: number
  readonly target: Target
  readonly dataDir: string
  readonly adminPort?: number
  /** Where bench/memory-probe/register.mjs writes V8's figures on SIGUSR2 (`--memory`). */
  readonly memoryFile?: string
  stderr: string
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SOVRA_')) env[k] = v
  return env
}

/** A `taskset -c` CPU list of single CPUs: "0" or "0,1". */
function parseCpus(list: string): string {
  if (!/^\d+(,\d+)*$/.test(list)) throw new Error(`--server-cpus must be a CPU list like 0 or 0,1`)
  return list
}

function spawnPinned(cpus: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('taskset', ['-c', cpus, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
}

async function startSovra(
  opts: Opts,
  resultsDir: string,
  stamp: string,
  variant: SovraVariant,
): Promise<Server> {
  const dist = variant === 'sovra-before' ? opts.beforeDist : opts.sovraDist
  if (dist === null) throw new Error(`${variant} needs --before-dist`)
  const bin = join(dist, 'cli', 'bin.js')
  if (!existsSync(bin))
    throw new Error(`${bin} is missing: run \`npm run build\` first (or pass --build)`)
  const dataDir = mkdtempSync(join(os.tmpdir(), 'sovra-bench-sovra-'))
  const base = await freeRange(7)
  const adminPort = await freePort()
  const creds = {
    accessKeyId: 'AKIASOVRABENCH000001',
    secretAccessKey: 'sovra-bench-secret-key-0123456789abcdef',
    region: 'us-west-1',
  }
  const memoryFile = opts.memory ? `${dataDir}-memory.json` : undefined
  const env = {
    ...cleanEnv(),
    ...(memoryFile === undefined
      ? {}
      : { BENCH_MEMORY_PROBE_FILE: memoryFile, BENCH_MEMORY_PROBE_GC: opts.memoryGc ? '1' : '0' }),
    SOVRA_DATA_DIR: dataDir,
    SOVRA_BASE_PORT: String(base),
    SOVRA_ADMIN_PORT: String(adminPort),
    SOVRA_ROOT_ACCESS_KEY: creds.accessKeyId,
    SOVRA_ROOT_SECRET_KEY: creds.secretAccessKey,
    SOVRA_LOG_LEVEL: 'warn',
    ...SOVRA_VARIANTS[variant]?.env,
  }
  const nodeArgs = [
    ...serverNodeFlags(bin),
    ...(SOVRA_VARIANTS[variant]?.nodeArgs ?? []),
    ...(memoryFile === undefined ? [] : ['--import', join(HERE, 'memory-probe', 'register.mjs')]),
    ...(opts.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, `${stamp}-${variant}-prof`)}`]
      : []),
  ]
  const proc = spawnPinned(opts.serverCpus, [process.execPath, ...nodeArgs, bin, 'serve'], env)
  const port = base + 1 // us-west-1 is the second data center
  const server: Server = {
    name: variant,
    proc,
    pid: proc.pid as number,
    dataDir,
    adminPort,
    ...(memoryFile === undefined ? {} : { memoryFile }),
    stderr: '',
    target: { host: '127.0.0.1', port, bucket: 'bench', creds },
  }
  proc.stderr?.on('data', (d) => (server.stderr = (server.stderr + d).slice(-4000)))
  await waitForPort(port, proc, 'Sovra')
  await waitForPort(adminPort, proc, 'Sovra admin')
  if (variant === 'sovra-plaintext' && !server.stderr.includes(PLAINTEXT_MARK)) {
    throw new Error(`${variant}: the plaintext module hook did not load: ${server.stderr}`)
  }
  return server
}

/**
 * What the server's blob files hold: envelopes (they start with "SVRE") or not. Checked after
 * the run, so a baseline that silently encrypted (or a server that did not) cannot pass unseen.
 */
function blobsAtRest(s: Server): 'envelopes' | 'plaintext' | 'none' | 'mixed' {
  const dir = join(s.dataDir, 'dcs')
  if (!existsSync(dir)) return 'none'
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /blobs[/\\]objects[/\\].*[0-9a-f]{32}$/.test(name))
    .slice(0, 50)
  if (files.length === 0) return 'none'
  const sealed = files.filter((name) => {
    // Only the first bytes: a big object's file is larger than readFileSync's 2 GiB limit.
    const fd = openSync(join(dir, name), 'r')
    try {
      const head = Buffer.alloc(ENVELOPE_MAGIC.length)
      return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(ENVELOPE_MAGIC)
    } finally {
      closeSync(fd)
    }
  }).length
  return sealed === files.length ? 'envelopes' : sealed === 0 ? 'plaintext' : 'mixed'
}

async function startS3rver(opts: Opts): Promise<Server> {
  const bin = join(ROOT, 'node_modules', 's3rver', 'bin', 's3rver.js')
  const dataDir = mkdtempSync(join(os.tmpdir(), 'sovra-bench-s3rver-'))
  const port = await freePort()
  const proc = spawnPinned(
    opts.serverCpus,
    [
      process.execPath,
      '--openssl-legacy-provider',
      bin,
      '-d',
      dataDir,
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '--silent',
    ],
    cleanEnv(),
  )
  const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' }
  const server: Server = {
    name: 's3rver',
    proc,
    pid: proc.pid as number,
    dataDir,
    stderr: '',
    target: { host: '127.0.0.1', port, bucket: 'bench', creds },
  }
  proc.stderr?.on('data', (d) => (server.stderr = (server.stderr + d).slice(-4000)))
  await waitForPort(port, proc, 's3rver')
  return server
}

async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode === null) {
    const exited = new Promise((r) => s.proc.once('exit', r))
    s.proc.kill('SIGTERM')
    const t = setTimeout(() => s.proc.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(t)
  }
}

// ---------------------------------------------------------------- measuring helpers
/** Runs one load task in a child pinned to CPU 1 and returns its JSON result. */
function load<T = Record<string, unknown>>(task: Task): Promise<T> {
  return new Promise((res, rej) => {
    const p = spawn(
      'taskset',
      ['-c', '1', process.execPath, '--import', 'tsx', join(HERE, 'load.ts'), JSON.stringify(task)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? ''
      if (code !== 0) rej(new Error(`load ${task.kind} failed (${code}): ${err.slice(-2000)}`))
      else res(JSON.parse(line) as T)
    })
  })
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1])
  } catch {
    return 0
  }
}

/** Fields of /proc/<pid>/status in kB (VmRSS, VmHWM, RssAnon, RssFile, RssShmem, Threads). */
function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {}
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem|Threads):\s+(\d+)/.exec(line)
      if (m !== null) out[m[1] as string] = Number(m[2])
    }
  } catch {}
  return out
}

/**
 * Resident kB of the process's mappings by kind, from /proc/<pid>/smaps: `brk` (glibc's main
 * arena, `[heap]`), `anon` (every other anonymous mapping: V8's heap pages, other threads' malloc
 * arenas, large malloc chunks, thread stacks), `file` (code, shared libraries, mmapped files);
 * `anon64` counts the anonymous mappings inside 64 MiB-aligned reservations (glibc's per-thread
 * arenas reserve 64 MiB each; V8 pages are 256 KiB-aligned), an estimate, not an accounting.
 */
function smapsByKind(pid: number): Record<string, number> {
  const out: Record<string, number> = { brk: 0, anon: 0, file: 0, other: 0, anon64: 0 }
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8')
  } catch {
    return out
  }
  let kind = 'other'
  let arena = false
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line)
    if (head !== null) {
      const name = head[3] ?? ''
      kind =
        name === '[heap]' ? 'brk' : name === '' ? 'anon' : name.startsWith('/') ? 'file' : 'other'
      arena = kind === 'anon' && BigInt(`0x${head[1]}`) % BigInt(64 * MiB) === 0n
      continue
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss !== null) {
      out[kind] = (out[kind] ?? 0) + Number(rss[1])
      if (arena) out.anon64 = (out.anon64 ?? 0) + Number(rss[1])
    }
  }
  return out
}

/** V8's figures from bench/memory-probe/register.mjs (null when it did not answer within 3 s). */
async function probeV8(s: Server): Promise<Record<string, unknown> | null> {
  if (s.memoryFile === undefined) return null
  rmSync(s.memoryFile, { force: true })
  try {
    process.kill(s.pid, 'SIGUSR2')
  } catch {
    return null
  }
  for (let i = 0; i < 60; i++) {
    await sleep(50)
    if (existsSync(s.memoryFile))
      return JSON.parse(readFileSync(s.memoryFile, 'utf8')) as Record<string, unknown>
  }
  return null
}

/** What the server's RSS is made of now (`--memory`), logged and returned for the results. */
async function memorySnapshot(s: Server, after: string): Promise<Record<string, unknown>> {
  const status = procStatus(s.pid)
  const maps = smapsByKind(s.pid)
  const v8 = await probeV8(s)
  const snap = { after, status, smaps: maps, v8 }
  const mb = (kB: number | undefined) => ((kB ?? 0) / 1024).toFixed(0)
  const b = (v8?.before ?? {}) as Record<string, number>
  const g = v8?.afterGc as Record<string, number> | undefined
  const MBof = (bytes: number | undefined) => ((bytes ?? 0) / MiB).toFixed(0)
  log(
    `memory ${s.name} after ${after}: RSS ${mb(status.VmRSS)} MiB (HWM ${mb(status.VmHWM)}; anon ${mb(status.RssAnon)}, file ${mb(status.RssFile)}; smaps brk ${mb(maps.brk)}, other anon ${mb(maps.anon)} of which 64M-aligned ${mb(maps.anon64)}; threads ${status.Threads}); V8 heap ${MBof(b.heapPhysical)} MiB physical, ${MBof(b.heapUsed)} used, limit ${MBof(b.heapLimit)}; external ${MBof(b.external)} (array buffers ${MBof(b.arrayBuffers)}); V8 malloc ${MBof(b.mallocedByV8)}${g === undefined ? '' : `; after a full GC: heap ${MBof(g.heapPhysical)} physical, ${MBof(g.heapUsed)} used, external ${MBof(g.external)}, RSS ${MBof(g.rss)}`}`,
  )
  return snap
}

/** CPU seconds (user + system, all threads) the process has used so far. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return Number.NaN
  }
}
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** Samples the server's VmRSS every `everyMs` while `fn` runs, and the CPU time it used meanwhile. */
async function withRss<T>(
  pid: number,
  everyMs: number,
  fn: () => Promise<T>,
): Promise<{ result: T; samplesMB: number[]; serverCpuSec: number }> {
  const samples: number[] = []
  const sample = () => samples.push((rssKiB(pid) * 1024) / 1e6)
  sample()
  const cpu0 = cpuSeconds(pid)
  const timer = setInterval(sample, everyMs)
  try {
    const result = await fn()
    sample()
    return { result, samplesMB: samples, serverCpuSec: cpuSeconds(pid) - cpu0 }
  } finally {
    clearInterval(timer)
  }
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function syncDisks() {
  execFileSync('sync')
}

// ---------------------------------------------------------------- phases
type Measurement = Record<string, unknown> & { rssPeakMB?: number }

interface PhaseSpec {
  op: 'put' | 'get'
  size: number
  durationMs: (o: Opts) => number
  warmupMs: (o: Opts) => number
  /** GET phases: objects populated once per server before measuring. */
  populate?: number
  small: boolean
}

const OBJECT_PHASES: Partial<Record<Phase, PhaseSpec>> = {
  put4k: {
    op: 'put',
    size: 4 * KiB,
    durationMs: (o) => o.durationMs,
    warmupMs: (o) => o.warmupMs,
    small: true,
  },
  get4k: {
    op: 'get',
    size: 4 * KiB,
    durationMs: (o) => o.durationMs,
    warmupMs: (o) => o.warmupMs,
    populate: 1000,
    small: true,
  },
  put1m: {
    op: 'put',
    size: MiB,
    durationMs: (o) => o.durationMs,
    warmupMs: (o) => o.warmupMs,
    small: false,
  },
  get1m: {
    op: 'get',
    size: MiB,
    durationMs: (o) => o.durationMs,
    warmupMs: (o) => o.warmupMs,
    populate: 64,
    small: false,
  },
  // No warmup for 64 MiB: one warmup round alone would write 1 GiB.
  put64m: {
    op: 'put',
    size: 64 * MiB,
    durationMs: (o) => o.duration64mMs,
    warmupMs: () => 0,
    small: false,
  },
  get64m: {
    op: 'get',
    size: 64 * MiB,
    durationMs: (o) => o.duration64mMs,
    warmupMs: () => 0,
    populate: 16,
    small: false,
  },
}

async function objectPhase(
  phase: Phase,
  spec: PhaseSpec,
  servers: Server[],
  opts: Opts,
  out: Record<string, Measurement[]>,
) {
  for (const s of servers) {
    out[s.name] = []
    if (spec.populate !== undefined) {
      log(`${phase}: ${s.name}: populating ${spec.populate} objects of ${spec.size} B`)
      await load({
        kind: 'populate',
        target: s.target,
        prefix: `${phase}/`,
        count: spec.populate,
        size: spec.size,
        concurrency: Math.min(opts.concurrency, spec.populate),
      })
    }
  }
  for (let rep = 0; rep < opts.repeat; rep++) {
    // The order alternates per repetition, so no server always measures first.
    for (const s of rep % 2 === 0 ? servers : [...servers].reverse()) {
      out[s.name]?.push(await measureObjects(s, s.target, phase, phase, spec, rep, opts))
    }
  }
}

/**
 * One measurement of an object phase against `target` (a bucket of server `s`): load from the
 * child on CPU 1 while the server's RSS and CPU time are sampled. GETs read `<keys>/` (populated
 * before), PUTs write under `<keys>-r<rep>/`.
 */
async function measureObjects(
  s: Server,
  target: Target,
  label: string,
  keys: string,
  spec: PhaseSpec,
  rep: number,
  opts: Opts,
): Promise<Measurement> {
  syncDisks()
  const useWrk = spec.small && opts.smallClient === 'wrk'
  const task = {
    kind: useWrk ? 'wrk' : 'ops',
    target,
    op: spec.op,
    size: spec.size,
    prefix: spec.op === 'get' ? `${keys}/` : `${keys}-r${rep}/`,
    keyCount: spec.op === 'get' ? (spec.populate as number) : useWrk ? 100_000 : 10_000_000,
    concurrency: opts.concurrency,
    warmupMs: spec.warmupMs(opts),
    durationMs: spec.durationMs(opts),
  } as Task
  const { result, samplesMB, serverCpuSec } = await withRss(s.pid, 100, () =>
    load<Measurement>(task),
  )
  result.rssPeakMB = Math.max(...samplesMB)
  // Server CPU per request (warmup requests counted; the server idles while the child starts):
  // far less sensitive to the shared machine's noise than the rates.
  const totalOps = (result.ops as number) + ((result.warmupOps as number) ?? 0)
  result.serverCpuSec = serverCpuSec
  result.serverCpuUsPerOp = (serverCpuSec / totalOps) * 1e6
  result.opsPerServerCpuSec = totalOps / serverCpuSec
  result.MBPerServerCpuSec = (totalOps * spec.size) / 1e6 / serverCpuSec
  const r = result as {
    opsPerSec: number
    MBps: number
    p50ms: number
    p99ms: number
    errors: number
  }
  log(
    `${label} #${rep + 1} ${s.name}: ${r.opsPerSec.toFixed(0)} ops/s, ${r.MBps.toFixed(1)} MB/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, errors ${r.errors}, RSS peak ${result.rssPeakMB.toFixed(0)} MB, server CPU ${serverCpuSec.toFixed(1)} s (~${(result.serverCpuUsPerOp as number).toFixed(0)} us/op)`,
  )
  if (r.errors > 0) log(`  first error: ${String(result.firstError).slice(0, 400)}`)
  return result
}

/** The bucket variants measured against the plain bucket, and how each is set up. */
const BUCKET_VARIANTS = { versioned: 'versioning', policy: 'policy' } as const
type BucketVariant = keyof typeof BUCKET_VARIANTS

/** A variant's measurements by operation, or why it could not be set up. */
type VariantRun = { put: Measurement[]; get: Measurement[] } | { unsupported: string }

/**
 * The `variants` phase: 4 KiB PUT and GET in a versioned bucket and in a bucket with a policy,
 * against the plain bucket in the same run, interleaved (plain, versioned, policy) per repetition
 * so the machine's drift falls on all alike. Sovra servers only. A variant whose setup is refused
 * (PutBucketVersioning / PutBucketPolicy answered NotImplemented before those features exist) is
 * recorded as unsupported, and the others still run.
 */
async function variantsPhase(
  servers: Server[],
  opts: Opts,
  out: Record<string, Record<string, VariantRun>>,
) {
  const put = OBJECT_PHASES.put4k as PhaseSpec
  const get = OBJECT_PHASES.get4k as PhaseSpec
  for (const s of servers) {
    if (s.name === 's3rver') {
      log('variants: s3rver skipped (the rows compare Sovra buckets with each other)')
      continue
    }
    const runs: Record<string, VariantRun> = { plain: { put: [], get: [] } }
    const targets = new Map<string, Target>([['plain', s.target]])
    for (const [variant, setup] of Object.entries(BUCKET_VARIANTS) as [
      BucketVariant,
      (typeof BUCKET_VARIANTS)[BucketVariant],
    ][]) {
      const target = { ...s.target, bucket: `bench-${variant}` }
      const r = await load<{ ok: boolean; code?: string }>({
        kind: 'configureBucket',
        target,
        setup,
      })
      if (!r.ok) {
        runs[variant] = { unsupported: r.code ?? 'refused' }
        log(`variants: ${s.name}: ${variant} bucket unsupported (${setup}: ${r.code})`)
        continue
      }
      runs[variant] = { put: [], get: [] }
      targets.set(variant, target)
    }
    for (const [name, target] of targets) {
      log(`variants: ${s.name}: populating ${get.populate} objects of 4 KiB in the ${name} bucket`)
      await load({
        kind: 'populate',
        target,
        prefix: 'variants/',
        count: get.populate as number,
        size: get.size,
        concurrency: Math.min(opts.concurrency, get.populate as number),
      })
    }
    for (let rep = 0; rep < opts.repeat; rep++) {
      for (const [op, spec] of [
        ['put', put],
        ['get', get],
      ] as const) {
        for (const [name, target] of targets) {
          const m = await measureObjects(
            s,
            target,
            `variants ${op} ${name}`,
            'variants',
            spec,
            rep,
            opts,
          )
          const run = runs[name] as { put: Measurement[]; get: Measurement[] }
          run[op].push(m)
        }
      }
    }
    out[s.name] = runs
  }
}

/** The variants' rows: each variant's rate and latencies, and its ratio to the plain bucket. */
function variantRows(
  variants: Record<string, Record<string, VariantRun>> | undefined,
): Record<string, string>[] {
  const rows: Record<string, string>[] = []
  if (variants === undefined) return rows
  for (const [server, runs] of Object.entries(variants)) {
    const plain = runs.plain as { put: Measurement[]; get: Measurement[] }
    for (const variant of Object.keys(BUCKET_VARIANTS)) {
      const run = runs[variant]
      for (const op of ['put', 'get'] as const) {
        const metric = `${op.toUpperCase()} 4 KiB, ${variant} bucket`
        const base = median(plain[op].map((m) => m.opsPerSec as number))
        if (run === undefined || 'unsupported' in run) {
          rows.push({
            server,
            metric,
            'plain ops/s': fmt(base),
            'ops/s': '-',
            'vs plain': '-',
            'p50 ms': '-',
            'p99 ms': '-',
            target: '>= 0.9x plain',
            result: `unsupported (${run === undefined ? 'not run' : run.unsupported})`,
          })
          continue
        }
        const rate = median(run[op].map((m) => m.opsPerSec as number))
        const ratio = rate / base
        rows.push({
          server,
          metric,
          'plain ops/s': fmt(base),
          'ops/s': fmt(rate),
          'vs plain': Number.isFinite(ratio) ? `${fmt(ratio)}x` : '-',
          'p50 ms': fmt(median(run[op].map((m) => m.p50ms as number))),
          'p99 ms': fmt(median(run[op].map((m) => m.p99ms as number))),
          target: '>= 0.9x plain',
          result: Number.isFinite(ratio) ? (ratio >= 0.9 ? 'PASS' : 'FAIL') : '',
        })
      }
    }
  }
  return rows
}

async function listPhase(servers: Server[], opts: Opts, out: Record<string, Measurement>) {
  for (const s of servers) {
    const total = s.name === 's3rver' ? opts.listKeysS3rver : opts.listKeys
    log(
      `list: ${s.name}: populating ${total} keys (16 B objects, concurrency ${opts.populateConcurrency})`,
    )
    const pop = await load<{ seconds: number; opsPerSec: number }>({
      kind: 'populate',
      target: s.target,
      prefix: 'list/',
      count: total,
      size: 16,
      concurrency: opts.populateConcurrency,
    })
    log(
      `list: ${s.name}: populated in ${pop.seconds.toFixed(1)} s (${pop.opsPerSec.toFixed(0)} PUT/s)`,
    )
    syncDisks()
    const { result, samplesMB } = await withRss(s.pid, 100, () =>
      load<Measurement>({
        kind: 'list',
        target: s.target,
        prefix: 'list/',
        total,
        maxKeys: 1000,
        maxRequests: 200,
        maxMs: opts.listMs,
        warmup: 3,
      }),
    )
    result.rssPeakMB = Math.max(...samplesMB)
    result.populateSeconds = pop.seconds
    result.populateOpsPerSec = pop.opsPerSec
    out[s.name] = result
    const r = result as { p50ms: number; p99ms: number; requests: number; errors: number }
    log(
      `list ${s.name}: ${r.requests} requests, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, errors ${r.errors}`,
    )
    if (r.errors > 0) log(`  first error: ${String(result.firstError).slice(0, 400)}`)
  }
}

function rssStats(samples: number[]) {
  const q = Math.max(1, Math.floor(samples.length / 4))
  const first = median(samples.slice(0, q))
  const last = median(samples.slice(-q))
  return {
    samples: samples.length,
    peakMB: Math.max(...samples),
    minMB: Math.min(...samples),
    medianMB: median(samples),
    firstQuarterMedianMB: first,
    lastQuarterMedianMB: last,
    growthMB: last - first,
  }
}

async function bigPhase(servers: Server[], opts: Opts, out: Record<string, Measurement>) {
  for (const s of servers) {
    syncDisks()
    const idleMB = (rssKiB(s.pid) * 1024) / 1e6
    log(
      `big: ${s.name}: streaming a ${(opts.bigBytes / GiB).toFixed(2)} GiB PUT (RSS before: ${idleMB.toFixed(0)} MB)`,
    )
    const up = await withRss(s.pid, 100, () =>
      load<Measurement>({
        kind: 'bigPut',
        target: s.target,
        key: 'big/object',
        size: opts.bigBytes,
      }),
    )
    syncDisks()
    log(
      `big: ${s.name}: PUT ${(up.result.MBps as number).toFixed(0)} MB/s; streaming the GET into SHA-256`,
    )
    const down = await withRss(s.pid, 100, () =>
      load<Measurement>({ kind: 'bigGet', target: s.target, key: 'big/object' }),
    )
    const intact = up.result.sha256 === down.result.sha256 && down.result.bytes === opts.bigBytes
    out[s.name] = {
      bytes: opts.bigBytes,
      idleRssMB: idleMB,
      put: {
        ...up.result,
        rss: rssStats(up.samplesMB),
        rssSamplesMB: up.samplesMB.map((x) => Math.round(x)),
      },
      get: {
        ...down.result,
        rss: rssStats(down.samplesMB),
        rssSamplesMB: down.samplesMB.map((x) => Math.round(x)),
      },
      intact,
    }
    const u = rssStats(up.samplesMB)
    const d = rssStats(down.samplesMB)
    log(
      `big ${s.name}: PUT ${(up.result.MBps as number).toFixed(0)} MB/s RSS peak ${u.peakMB.toFixed(0)} MB growth ${u.growthMB.toFixed(1)} MB; GET ${(down.result.MBps as number).toFixed(0)} MB/s RSS peak ${d.peakMB.toFixed(0)} MB growth ${d.growthMB.toFixed(1)} MB; content ${intact ? 'intact' : 'MISMATCH'}`,
    )
  }
}

// ---------------------------------------------------------------- report
interface Row {
  metric: string
  sovra: number
  s3rver: number
  ratio: number
  target: string
  pass: boolean | null
  unit: string
}

function buildRows(results: Record<string, Record<string, unknown>>, opts: Opts): Row[] {
  const rows: Row[] = []
  const med = (phase: string, server: string, field: string) => {
    const ms = results[phase]?.[server] as Measurement[] | undefined
    return ms === undefined ? Number.NaN : median(ms.map((m) => m[field] as number))
  }
  const add = (
    metric: string,
    unit: string,
    sovra: number,
    s3rver: number,
    target: string,
    pass: boolean | null,
  ) =>
    rows.push({
      metric,
      unit,
      sovra,
      s3rver,
      ratio: sovra / s3rver,
      target,
      pass: Number.isNaN(sovra) ? null : pass,
    })
  const ratioTarget = (
    metric: string,
    phase: string,
    field: string,
    unit: string,
    min: number | null,
  ) => {
    if (results[phase] === undefined) return
    const a = med(phase, 'sovra', field)
    const b = med(phase, 's3rver', field)
    const pass = min === null || Number.isNaN(b) ? null : a / b >= min
    add(metric, unit, a, b, min === null ? '' : `>= ${min}x s3rver`, pass)
  }
  const latency = (metric: string, phase: string) => {
    if (results[phase] === undefined) return
    add(
      `${metric} p50`,
      'ms',
      med(phase, 'sovra', 'p50ms'),
      med(phase, 's3rver', 'p50ms'),
      '',
      null,
    )
    add(
      `${metric} p99`,
      'ms',
      med(phase, 'sovra', 'p99ms'),
      med(phase, 's3rver', 'p99ms'),
      '',
      null,
    )
  }
  ratioTarget('PUT 4 KiB', 'put4k', 'opsPerSec', 'ops/s', 4)
  latency('PUT 4 KiB', 'put4k')
  ratioTarget('GET 4 KiB', 'get4k', 'opsPerSec', 'ops/s', 5)
  latency('GET 4 KiB', 'get4k')
  ratioTarget('PUT 1 MiB', 'put1m', 'MBps', 'MB/s', null)
  latency('PUT 1 MiB', 'put1m')
  ratioTarget('GET 1 MiB', 'get1m', 'MBps', 'MB/s', 1.3)
  latency('GET 1 MiB', 'get1m')
  ratioTarget('PUT 64 MiB', 'put64m', 'MBps', 'MB/s', 1)
  ratioTarget('GET 64 MiB', 'get64m', 'MBps', 'MB/s', 1.3)
  // Efficiency: work done per second of server CPU (all threads), less sensitive to a noisy machine.
  ratioTarget('PUT 4 KiB per server CPU-second', 'put4k', 'opsPerServerCpuSec', 'ops/CPU-s', null)
  ratioTarget('GET 4 KiB per server CPU-second', 'get4k', 'opsPerServerCpuSec', 'ops/CPU-s', null)
  ratioTarget('PUT 1 MiB per server CPU-second', 'put1m', 'MBPerServerCpuSec', 'MB/CPU-s', null)
  ratioTarget('GET 1 MiB per server CPU-second', 'get1m', 'MBPerServerCpuSec', 'MB/CPU-s', null)
  ratioTarget('PUT 64 MiB per server CPU-second', 'put64m', 'MBPerServerCpuSec', 'MB/CPU-s', null)
  ratioTarget('GET 64 MiB per server CPU-second', 'get64m', 'MBPerServerCpuSec', 'MB/CPU-s', null)
  const list = results.list as Record<string, Measurement> | undefined
  if (list !== undefined) {
    const keysNote =
      opts.listKeysS3rver !== opts.listKeys ? ` (s3rver bucket: ${opts.listKeysS3rver} keys)` : ''
    add(
      `LIST 1000 of ${opts.listKeys} p50${keysNote}`,
      'ms',
      (list.sovra?.p50ms as number) ?? Number.NaN,
      (list.s3rver?.p50ms as number) ?? Number.NaN,
      '<= 10 ms',
      ((list.sovra?.p50ms as number) ?? Number.NaN) <= 10,
    )
    add(
      `LIST 1000 of ${opts.listKeys} p99${keysNote}`,
      'ms',
      (list.sovra?.p99ms as number) ?? Number.NaN,
      (list.s3rver?.p99ms as number) ?? Number.NaN,
      '',
      null,
    )
  }
  const big = results.big as
    | Record<
        string,
        {
          put: { MBps: number; rss: ReturnType<typeof rssStats> }
          get: { MBps: number; rss: ReturnType<typeof rssStats> }
        }
      >
    | undefined
  if (big !== undefined) {
    const gib = (opts.bigBytes / GiB).toFixed(opts.bigBytes % GiB === 0 ? 0 : 2)
    for (const dir of ['put', 'get'] as const) {
      const label = dir === 'put' ? `upload` : `download`
      const a = big.sovra?.[dir]
      const b = big.s3rver?.[dir]
      add(
        `${gib} GiB ${label} throughput`,
        'MB/s',
        a?.MBps ?? Number.NaN,
        b?.MBps ?? Number.NaN,
        '',
        null,
      )
      add(
        `${gib} GiB ${label} RSS peak`,
        'MB',
        a?.rss.peakMB ?? Number.NaN,
        b?.rss.peakMB ?? Number.NaN,
        '< 200 MB',
        a === undefined ? null : a.rss.peakMB < 200,
      )
      add(
        `${gib} GiB ${label} RSS growth (last vs first quarter)`,
        'MB',
        a?.rss.growthMB ?? Number.NaN,
        b?.rss.growthMB ?? Number.NaN,
        'flat (< 20 MB)',
        a === undefined ? null : Math.abs(a.rss.growthMB) < 20,
      )
    }
  }
  return rows
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-'
  if (Math.abs(x) >= 100) return x.toFixed(0)
  if (Math.abs(x) >= 10) return x.toFixed(1)
  return x.toFixed(2)
}

function table(rows: Row[]): string {
  const head = ['metric', 'unit', 'Sovra', 's3rver', 'Sovra/s3rver', 'target', 'result']
  const body = rows.map((r) => [
    r.metric,
    r.unit,
    fmt(r.sovra),
    fmt(r.s3rver),
    Number.isFinite(r.ratio) ? `${fmt(r.ratio)}x` : '-',
    r.target,
    r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL',
  ])
  const lines = [head, head.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`)
  return lines.join('\n')
}

function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown'
  let disk = ''
  try {
    disk =
      execFileSync('df', ['-h', os.tmpdir()], { encoding: 'utf8' }).trim().split('\n').pop() ?? ''
  } catch {}
  return {
    nproc: os.cpus().length,
    cpu,
    memGiB: +(os.totalmem() / GiB).toFixed(1),
    node: process.version,
    kernel: os.release(),
    tmpDisk: disk,
  }
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2))
  // This orchestrator belongs with the load generator on CPU 1.
  execFileSync('taskset', ['-a', '-pc', '1', String(process.pid)], { stdio: 'ignore' })
  if (opts.build) {
    log('npm run build')
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  }
  const resultsDir = join(HERE, 'results')
  mkdirSync(resultsDir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const started = Date.now()

  const servers: Server[] = []
  const results: Record<string, Record<string, unknown>> = {}
  /** Per Sovra server: whether its blob files are envelopes (checked after the phases). */
  const atRest: Record<string, string> = {}
  let failure: unknown = null
  try {
    for (const name of opts.servers) {
      servers.push(
        name === 's3rver'
          ? await startS3rver(opts)
          : await startSovra(opts, resultsDir, stamp, name),
      )
      const s = servers[servers.length - 1] as Server
      log(
        `${name} pid ${s.pid} on CPU ${opts.serverCpus}, http://${s.target.host}:${s.target.port} (data in ${s.dataDir})`,
      )
      await load({ kind: 'createBucket', target: s.target })
    }
    const memory: Record<string, Record<string, unknown>[]> = {}
    const snapshotMemory = async (after: string) => {
      if (!opts.memory) return
      for (const s of servers) {
        if (s.memoryFile === undefined) continue
        memory[s.name] ??= []
        memory[s.name]?.push(await memorySnapshot(s, after))
      }
    }
    if (opts.memory) {
      results.memory = memory
      await sleep(2000)
      await snapshotMemory('start')
    }
    for (const phase of opts.only) {
      const spec = OBJECT_PHASES[phase]
      const out: Record<string, unknown> = {}
      results[phase] = out
      if (spec !== undefined)
        await objectPhase(phase, spec, servers, opts, out as Record<string, Measurement[]>)
      else if (phase === 'list') await listPhase(servers, opts, out as Record<string, Measurement>)
      else if (phase === 'big') await bigPhase(servers, opts, out as Record<string, Measurement>)
      else if (phase === 'variants')
        await variantsPhase(servers, opts, out as Record<string, Record<string, VariantRun>>)
      await snapshotMemory(phase)
    }
    for (const s of servers) {
      if (s.name === 's3rver') continue
      const found = blobsAtRest(s)
      atRest[s.name] = found
      const expected = s.name === 'sovra-plaintext' ? 'plaintext' : 'envelopes'
      if (found !== expected && found !== 'none') {
        throw new Error(`${s.name}: blob files hold ${found}, expected ${expected}`)
      }
    }
  } catch (err) {
    failure = err
  } finally {
    const sovra = servers.find((s) => s.name === 'sovra')
    if (sovra?.adminPort !== undefined && sovra.proc.exitCode === null) {
      try {
        const text = await (await fetch(`http://127.0.0.1:${sovra.adminPort}/metrics`)).text()
        writeFileSync(join(resultsDir, `${stamp}-sovra-metrics.txt`), text)
      } catch {}
    }
    for (const s of servers) {
      if (failure !== null && s.stderr !== '') log(`${s.name} stderr: ${s.stderr.slice(-1500)}`)
      await stopServer(s)
    }
  }
  // Removing s3rver's many files takes a while on a busy disk: report first, clean up after.
  const cleanup = () => {
    for (const s of servers) rmSync(s.dataDir, { recursive: true, force: true })
  }
  if (failure !== null) {
    cleanup()
    throw failure
  }

  const rows = buildRows(results, opts)
  const variants = variantRows(
    results.variants as Record<string, Record<string, VariantRun>> | undefined,
  )
  const report = {
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    machine: machine(),
    options: {
      ...opts,
      sovraDist: undefined,
      beforeDist: opts.beforeDist === null ? undefined : 'given',
    },
    notes: {
      units:
        'MB = 10^6 bytes; latencies in ms; throughput = bytes completed / wall time of the measurement (in-flight requests are allowed to finish)',
      pinning: `servers on CPU ${opts.serverCpus} (taskset -c ${opts.serverCpus}); orchestrator, load generator and wrk on CPU 1`,
      smallClient:
        opts.smallClient === 'wrk'
          ? 'wrk -t1 replaying presigned requests (one key per request, UNSIGNED-PAYLOAD)'
          : 'node:http keep-alive client, header SigV4 with UNSIGNED-PAYLOAD',
      bigClient:
        'node:http keep-alive client, header SigV4 with UNSIGNED-PAYLOAD; one shared random body buffer per phase',
    },
    results,
    atRest,
    summary: rows,
    variantSummary: variants,
  }
  const file = join(resultsDir, `${stamp}.json`)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify(report)}\n\n`)
  process.stdout.write(
    `${rows.length > 0 ? `${table(rows)}\n\n` : ''}(medians of ${opts.repeat} measurement(s) for object phases; full results in ${file})\n`,
  )
  if (variants.length > 0) {
    process.stdout.write(
      `\nBucket variants (4 KiB, medians; versioning and policy evaluation may cost at most 10% of the plain bucket's rate):\n\n${markdownTable(variants)}\n`,
    )
  }
  log("removing the servers' data directories")
  cleanup()
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
