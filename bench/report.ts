// What the benchmarks share: `--name=value` options, a Markdown table of result rows, and
// running bench/s3-bench.ts as a child process for its JSON report.
import { spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '..')

/** A Markdown table of rows (columns from the first row; integers with thousands separators). */
export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return ''
  const cols = Object.keys(rows[0] as object)
  const cell = (v: unknown) =>
    typeof v === 'number' && Number.isInteger(v) ? v.toLocaleString('en-US') : String(v)
  return [
    `| ${cols.join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cols.map((c) => cell(r[c])).join(' | ')} |`),
  ].join('\n')
}

/** Runs bench/s3-bench.ts with `args` and returns the JSON report it prints first. */
export function runS3Bench(args: readonly string[]): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(HERE, 's3-bench.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.on('close', (code) => {
      if (code !== 0) return rej(new Error(`s3-bench exited with ${code}`))
      const first = out.split('\n').find((line) => line.startsWith('{'))
      if (first === undefined) return rej(new Error('s3-bench printed no JSON'))
      res(JSON.parse(first) as Record<string, unknown>)
    })
  })
}

/** Parsed `--name[=value]` options: the raw values, `--quick`, and a positive-number reader. */
export interface BenchOptions {
  readonly raw: Readonly<Record<string, string>>
  readonly quick: boolean
  /** The option as a positive number, else `dflt`; anything else throws. */
  num(name: string, dflt: number): number
}

/** Parses `--name[=value]` arguments, refusing any name not in `known` (`quick` always is). */
export function benchOptions(argv: readonly string[], known: readonly string[]): BenchOptions {
  const raw: Record<string, string> = {}
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg)
    if (m === null) throw new Error(`Unknown argument ${arg}`)
    raw[m[1] as string] = m[2] ?? 'true'
  }
  for (const k of Object.keys(raw)) {
    if (k !== 'quick' && !known.includes(k)) throw new Error(`Unknown option --${k}`)
  }
  return {
    raw,
    quick: raw.quick === 'true',
    num(name, dflt) {
      const v = raw[name] === undefined ? dflt : Number(raw[name])
      if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`)
      return v
    },
  }
}
