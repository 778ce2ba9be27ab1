// Shared helpers for the end-to-end tests: run real clients, hash files, build awkward trees.
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'

export const AWS = '/usr/bin/aws'
export const RCLONE = '/usr/bin/rclone'
export const S3CMD = '/usr/bin/s3cmd'
export const PYTHON = '/usr/bin/python3'

export interface RunResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * A clean environment for a client: no inherited AWS_*, SOVRA_*, proxy or CA-bundle variables
 * (rclone refuses plain http when AWS_CA_BUNDLE is set), a UTF-8 locale for unicode file names.
 */
export function clientEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(AWS_|SOVRA_|RCLONE_|BOTO_|S3CMD)/i.test(name)) continue
    if (
      /^(https?_proxy|all_proxy|no_proxy|CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE|SSL_CERT_FILE)$/i.test(
        name,
      )
    )
      continue
    env[name] = value
  }
  return {
    ...env,
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    PYTHONIOENCODING: 'utf-8',
    PYTHONUTF8: '1',
    ...extra,
  }
}

/** Runs a program to completion, capturing its output. Never throws for a non-zero exit. */
export function run(
  file: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(file, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', (e) => {
      clearTimeout(timer)
      fail(e)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      done({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** Like run, but fails with the full output when the exit code is not 0. */
export async function runOk(
  file: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number },
): Promise<RunResult> {
  const result = await run(file, args, options)
  if (result.code !== 0) {
    throw new Error(
      `${file} ${args.join(' ')} exited ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
    )
  }
  return result
}

/** A temp folder removed by the returned function. */
export function tempDir(prefix = 'sovra-e2e-client-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

export function sha256File(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256')
    createReadStream(path)
      .on('data', (b) => hash.update(b))
      .on('end', () => done(hash.digest('hex')))
      .on('error', fail)
  })
}

/** Writes `size` random bytes to `path` (creating folders) and returns their SHA-256. */
export function writeRandomFile(path: string, size: number): string {
  mkdirSync(dirname(path), { recursive: true })
  const data = randomBytes(size)
  writeFileSync(path, data)
  return sha256(data)
}

/** Every regular file under `root`, by path relative to it (with `/`), mapped to its SHA-256. */
export async function hashTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: string): Promise<void> => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name)
      if (entry.isDirectory()) await walk(full)
      else if (entry.isFile())
        out.set(relative(root, full).split('\\').join('/'), await sha256File(full))
    }
  }
  await walk(root)
  return out
}

/** File names every client here can carry: spaces, +, &, unicode, quotes, %, =, ~, nested folders. */
export const AWKWARD_NAMES = [
  'plain.txt',
  'with space.txt',
  'plus+sign.txt',
  'a+b c+d.bin',
  'amp&ersand.txt',
  'caf\u00e9.txt',
  'caf\u0065\u0301-decomposed.txt',
  '\u65e5\u672c/\u30d5\u30a1\u30a4\u30eb \u540d.txt',
  "it's quoted.txt",
  'double "quote".txt',
  'percent%20literal.txt',
  'equals=and,comma;semi.txt',
  'tilde~star*.txt',
  'dir with space/sub+dir/deep & deeper.txt',
  'emoji \u{1f680}.txt',
] as const

/** Writes AWKWARD_NAMES (small random bodies) under `root`; returns name → SHA-256. */
export function writeAwkwardTree(
  root: string,
  names: readonly string[] = AWKWARD_NAMES,
): Map<string, string> {
  const out = new Map<string, string>()
  names.forEach((name, i) => {
    out.set(name, writeRandomFile(join(root, name), 100 + i * 997))
  })
  return out
}

/** A bucket name unique to this run. */
export function bucketName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/** Node fetch without following redirects, returning status, headers and the raw body. */
export async function rawFetch(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { ...init, redirect: 'manual' })
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) }
}

/** The text of the first `<Tag>` in an XML body. */
export function xmlText(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1]
}

/** What the aws cli needs of a spawned server: its endpoints and the tenant's credentials. */
export interface AwsCliTarget {
  endpoint(dcId: string): string
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

/**
 * The Debian aws cli v2 bound to a server: a clean environment under `home` with path-style
 * addressing and the tenant's credentials; `aws` runs it against one data center's endpoint
 * (signing for that data center; `secret` overrides the secret key), `awsOk` also fails on a
 * non-zero exit.
 */
export function awsCliFor(target: AwsCliTarget, home: string) {
  const config = join(home, 'aws-config')
  const credentials = join(home, 'aws-credentials')
  writeFileSync(
    config,
    '[default]\nregion = us-east-1\noutput = json\ns3 =\n  addressing_style = path\n',
  )
  const { accessKeyId, secretAccessKey } = target.credentials
  writeFileSync(
    credentials,
    `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`,
  )
  const env = clientEnv(home, {
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '2',
  })
  const aws = (dcId: string, args: readonly string[], options: { secret?: string } = {}) =>
    run(AWS, ['--endpoint-url', target.endpoint(dcId), '--region', dcId, ...args], {
      env: options.secret === undefined ? env : { ...env, AWS_SECRET_ACCESS_KEY: options.secret },
    })
  const awsOk = async (dcId: string, args: readonly string[]): Promise<RunResult> => {
    const r = await aws(dcId, args)
    if (r.code !== 0)
      throw new Error(`aws ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`)
    return r
  }
  return { env, aws, awsOk }
}
