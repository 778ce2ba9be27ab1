// Transparency-log benchmark (issue 4), in one run on one machine:
//
//   npm run build && npm run bench:ledger -- [options]
//
// 1. Durable appends/s through openLog over FsLedgerStorage (group commit, integrator and
//    checkpoint publisher running): every combination of batch size (entries per durable write)
//    and concurrency (appenders each awaiting its own append); a run counts only once everything
//    appended is integrated and covered by a signed checkpoint (`log.sync()`).
//    Beside it, the floor: a plain append-only file, the same group commit, one fdatasync per batch.
// 2. Inclusion and consistency proofs generated from the stored tiles of a 1,000,000-entry log
//    (p50 / p99 over random indices), and the log's storage bytes per entry.
// 3. The server: 4 KiB PutObject and GetObject ops/s with the ledger on (reads async, reads sync)
//    against the ledger off (`ledger.enabled=false`), same run, through bench/s3-bench.ts (servers
//    pinned to CPU 0, wrk replaying presigned requests from CPU 1, medians of --repeat).
//
// Options (defaults in brackets):
//   --quick             smoke run: 1 s per append run, 100,000-entry proof log, 1 repetition, 2 s server phases
//   --seconds=S         length of each append run  [3]
//   --batches=a,b       batch sizes  [1,64,1024]
//   --concurrency=a,b   appender counts  [16,256]
//   --proof-entries=N   size of the proof log  [1000000]
//   --proofs=N          proofs of each kind timed  [1000]
//   --entry-bytes=N     size of each appended entry; a 4 KiB PUT's event is about this big  [420]
//   --server=false      skip part 3
//   --repeat=N / --duration=S   passed to bench/s3-bench.ts  [3 / 5]
// Output: JSON on stdout, then the tables; also bench/results/ledger-<timestamp>.json.
import { randomBytes, randomInt } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import {
  ed25519Signer,
  FsLedgerStorage,
  formatSignerKey,
  isPushback,
  openLog,
  type TransparencyLog,
} from '../src/ledger/index.js'
import { benchOptions, runS3Bench, table } from './report.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ORIGIN = 'sovra.bench/ledger/bench'

function parseArgs(argv: string[]) {
  const {
    raw: a,
    quick,
    num,
  } = benchOptions(argv, [
    'quick',
    'seconds',
    'batches',
    'concurrency',
    'proof-entries',
    'proofs',
    'entry-bytes',
    'server',
    'repeat',
    'duration',
  ])
  const list = (name: string, dflt: number[]) =>
    a[name] === undefined ? dflt : (a[name] as string).split(',').map(Number)
  return {
    quick,
    seconds: num('seconds', quick ? 1 : 3),
    batches: list('batches', [1, 64, 1024]),
    concurrency: list('concurrency', [16, 256]),
    proofEntries: num('proof-entries', quick ? 100_000 : 1_000_000),
    proofs: num('proofs', quick ? 200 : 1000),
    entryBytes: num('entry-bytes', 420),
    server: a.server !== 'false',
    repeat: num('repeat', quick ? 1 : 3),
    duration: num('duration', quick ? 2 : 5),
  }
}
type Opts = ReturnType<typeof parseArgs>

const log = (msg: string) =>
  process.stderr.write(`[bench:ledger ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(os.tmpdir(), 'sovra-ledger-bench-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function openBenchLog(dir: string, batchMaxSize: number): Promise<TransparencyLog> {
  return openLog({
    storage: await FsLedgerStorage.open(dir),
    signer: ed25519Signer(formatSignerKey(ORIGIN, new Uint8Array(32).fill(7))),
    origin: ORIGIN,
    batchMaxSize,
    batchMaxDelayMs: 2,
    maxPending: 1_000_000,
  })
}

/** Appenders loop `append` until the deadline; resolves with how many succeeded and pushbacks. */
async function drive(
  concurrency: number,
  ms: number,
  append: (entry: Uint8Array) => Promise<unknown>,
  entryBytes: number,
): Promise<{ appended: number; pushback: number }> {
  // One pool of entries, reused: generating random bytes is not what is measured.
  const pool = Array.from({ length: 256 }, () => randomBytes(entryBytes))
  let appended = 0
  let pushback = 0
  const end = performance.now() + ms
  const appender = async (n: number) => {
    let i = n
    while (performance.now() < end) {
      try {
        await append(pool[i++ % pool.length] as Uint8Array)
        appended++
      } catch (error) {
        if (!isPushback(error)) throw error
        pushback++
        await sleep(1)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, n) => appender(n)))
  return { appended, pushback }
}

interface AppendResult {
  batch: number
  concurrency: number
  entries: number
  seconds: number
  entriesPerSec: number
  pushback: number
}

/** Appends/s counted once every appended entry is integrated and checkpointed. */
async function ledgerAppends(
  opts: Opts,
  batch: number,
  concurrency: number,
): Promise<AppendResult> {
  return withTempDir(async (dir) => {
    const l = await openBenchLog(dir, batch)
    const start = performance.now()
    const { appended, pushback } = await drive(
      concurrency,
      opts.seconds * 1000,
      (e) => l.append(e),
      opts.entryBytes,
    )
    const cp = await l.sync()
    const seconds = (performance.now() - start) / 1000
    await l.close()
    if (Number(cp.checkpoint.size) !== appended)
      throw new Error(`checkpoint size ${cp.checkpoint.size} != ${appended} appended`)
    return {
      batch,
      concurrency,
      entries: appended,
      seconds,
      entriesPerSec: appended / seconds,
      pushback,
    }
  })
}

/** The floor: length-prefixed entries appended to one file, group commit, one fdatasync per batch. */
async function fileAppends(opts: Opts, batch: number, concurrency: number): Promise<AppendResult> {
  return withTempDir(async (dir) => {
    const fh = await open(join(dir, 'append-only'), 'a')
    const queue: { entry: Uint8Array; done: () => void }[] = []
    let writing = false
    const pump = async () => {
      if (writing) return
      writing = true
      while (queue.length > 0) {
        const take = queue.splice(0, batch)
        const parts: Uint8Array[] = []
        for (const { entry } of take) {
          const len = Buffer.alloc(2)
          len.writeUInt16BE(entry.byteLength)
          parts.push(len, entry)
        }
        await fh.write(Buffer.concat(parts))
        await fh.datasync()
        for (const t of take) t.done()
      }
      writing = false
    }
    const append = (entry: Uint8Array) =>
      new Promise<void>((done) => {
        queue.push({ entry, done })
        void pump()
      })
    const start = performance.now()
    const { appended } = await drive(concurrency, opts.seconds * 1000, append, opts.entryBytes)
    const seconds = (performance.now() - start) / 1000
    await fh.close()
    return {
      batch,
      concurrency,
      entries: appended,
      seconds,
      entriesPerSec: appended / seconds,
      pushback: 0,
    }
  })
}

async function duBytes(dir: string): Promise<number> {
  let total = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size
  }
  return total
}

interface ProofResult {
  entries: number
  buildSeconds: number
  inclusion: { p50us: number; p99us: number; count: number }
  consistency: { p50us: number; p99us: number; count: number }
  storageBytes: number
  storageBytesPerEntry: number
  entryBytes: number
}

async function timeProofs(count: number, make: () => Promise<unknown>) {
  const us: number[] = []
  for (let i = 0; i < count; i++) {
    const t = performance.now()
    await make()
    us.push((performance.now() - t) * 1000)
  }
  us.sort((x, y) => x - y)
  return { p50us: percentile(us, 50), p99us: percentile(us, 99), count }
}

async function proofs(opts: Opts): Promise<ProofResult> {
  return withTempDir(async (dir) => {
    const l = await openBenchLog(dir, 1024)
    const n = opts.proofEntries
    const t0 = performance.now()
    const entry = randomBytes(opts.entryBytes)
    const chunk = 4096
    for (let done = 0; done < n; done += chunk) {
      const k = Math.min(chunk, n - done)
      await Promise.all(Array.from({ length: k }, () => l.append(entry)))
      if (done % 100_000 < chunk) log(`proof log: ${done + k} / ${n} entries`)
    }
    const cp = await l.sync()
    const buildSeconds = (performance.now() - t0) / 1000
    const size = Number(cp.checkpoint.size)
    const inclusion = await timeProofs(opts.proofs, () => l.inclusionProof(randomInt(size), size))
    const consistency = await timeProofs(opts.proofs, () =>
      l.consistencyProof(1 + randomInt(size - 1), size),
    )
    await l.close()
    const storageBytes = await duBytes(dir)
    return {
      entries: size,
      buildSeconds,
      inclusion,
      consistency,
      storageBytes,
      storageBytesPerEntry: storageBytes / size,
      entryBytes: opts.entryBytes,
    }
  })
}

/** Runs bench/s3-bench.ts for the three server variants and returns its JSON report. */
function serverBench(opts: Opts): Promise<Record<string, unknown>> {
  return runS3Bench([
    '--only=put4k,get4k',
    '--servers=sovra-ledger-off,sovra,sovra-reads-sync',
    `--repeat=${opts.repeat}`,
    `--duration=${opts.duration}`,
  ])
}

type Measurement = { opsPerSec: number; p50ms: number; p99ms: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function serverRows(report: Record<string, unknown>) {
  const results = report.results as Record<string, Record<string, Measurement[]>>
  const rows: Record<string, string | number>[] = []
  for (const phase of ['put4k', 'get4k']) {
    const med = (server: string, field: keyof Measurement) =>
      median((results[phase]?.[server] ?? []).map((m) => m[field]))
    const off = med('sovra-ledger-off', 'opsPerSec')
    for (const server of ['sovra-ledger-off', 'sovra', 'sovra-reads-sync']) {
      const ops = med(server, 'opsPerSec')
      rows.push({
        phase,
        server,
        opsPerSec: Math.round(ops),
        p50ms: Number(med(server, 'p50ms').toFixed(2)),
        p99ms: Number(med(server, 'p99ms').toFixed(2)),
        vsLedgerOff: Number((ops / off).toFixed(3)),
        ledgerCostPct: Number((100 * (1 - ops / off)).toFixed(1)),
      })
    }
  }
  return rows
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const started = new Date()
  const appends: Record<string, string | number>[] = []
  for (const batch of opts.batches) {
    for (const concurrency of opts.concurrency) {
      const ledger = await ledgerAppends(opts, batch, concurrency)
      const file = await fileAppends(opts, batch, concurrency)
      log(
        `appends batch ${batch} concurrency ${concurrency}: ledger ${Math.round(ledger.entriesPerSec)}/s, plain file ${Math.round(file.entriesPerSec)}/s`,
      )
      appends.push({
        batch,
        concurrency,
        ledgerEntriesPerSec: Math.round(ledger.entriesPerSec),
        fileEntriesPerSec: Math.round(file.entriesPerSec),
        ledgerVsFile: Number((ledger.entriesPerSec / file.entriesPerSec).toFixed(2)),
        ledgerPushback: ledger.pushback,
      })
    }
  }
  log(`building a ${opts.proofEntries}-entry log for proofs`)
  const proof = await proofs(opts)
  let server: Record<string, string | number>[] = []
  let serverReport: Record<string, unknown> | null = null
  if (opts.server) {
    log('server: 4 KiB PUT/GET with the ledger off, on (reads async), on (reads sync)')
    serverReport = await serverBench(opts)
    server = serverRows(serverReport)
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
    },
    options: opts,
    appends,
    proofs: proof,
    server,
    serverMachine: serverReport?.machine,
  }
  const resultsDir = join(HERE, 'results')
  mkdirSync(resultsDir, { recursive: true })
  const file = join(resultsDir, `ledger-${started.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify(report)}\n\n`)
  process.stdout.write(
    `Durable appends (entries/s, integrated and checkpointed):\n${table(appends)}\n\n`,
  )
  process.stdout.write(
    `Proofs on a ${proof.entries.toLocaleString('en-US')}-entry log:\n${table([
      {
        proof: 'inclusion',
        p50us: Math.round(proof.inclusion.p50us),
        p99us: Math.round(proof.inclusion.p99us),
      },
      {
        proof: 'consistency',
        p50us: Math.round(proof.consistency.p50us),
        p99us: Math.round(proof.consistency.p99us),
      },
    ])}\nstorage: ${Math.round(proof.storageBytesPerEntry)} bytes per entry (entries of ${proof.entryBytes} bytes)\n\n`,
  )
  if (server.length > 0) process.stdout.write(`Server, 4 KiB objects:\n${table(server)}\n\n`)
  process.stdout.write(`(full results in ${file})\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
