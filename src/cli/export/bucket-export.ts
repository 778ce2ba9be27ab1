import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { appendFile, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite, fsyncDir } from '../../core/index.js'
import {
  type Attestation,
  ListDigest,
  parseAttestation,
  verifyAttestation,
} from '../../ledger/index.js'
import { S3CallError, type S3Client } from '../s3/s3-client.js'
import { isLocalName, localNameOf } from './local-names.js'

/** The manifest's file name in the export folder. */
export const MANIFEST_FILE = 'manifest.json'
/** The folder, inside the export folder, holding one file per object. */
export const OBJECTS_DIR = 'objects'
/** Progress of an interrupted export: one JSON line per object made durable. */
const JOURNAL_FILE = '.export-journal.ndjson'
/** Objects fetched (or re-hashed) at the same time. */
const PARALLEL = 8
/** Attest, copy, compare: at most this many times before giving up on a changing bucket. */
export const MAX_ROUNDS = 3

/** One exported object as the manifest lists it. */
export interface ManifestObject {
  readonly key: string
  readonly size: number
  /** Unquoted, as S3 lists it. */
  readonly etag: string
  /** Lowercase hex SHA-256 of the file's bytes. */
  readonly sha256: string
  /** Path of the file relative to the export folder: `objects/<name>`. */
  readonly file: string
}

/** An attestation as the admin API answers it (the signed part, plus its ledger index). */
export type AttestationDocument = Attestation & { readonly ledgerIndex?: number | null }

/** `manifest.json`: what was exported, and the data center's signed statement it matches. */
export interface ExportManifest {
  readonly v: 1
  readonly type: 'sovra.bucket-export'
  readonly bucket: string
  readonly dc: string
  readonly exportedAt: string
  /** How many attest-and-copy rounds it took (more than 1: the bucket changed meanwhile). */
  readonly rounds: number
  readonly attestation: AttestationDocument
  /** In ascending UTF-8 byte order of `key`: the order of the attestation's list digest. */
  readonly objects: readonly ManifestObject[]
}

/** What an export needs: how to attest, how to read S3, where to write, how to report. */
export interface ExportDeps {
  readonly bucket: string
  readonly folder: string
  readonly attest: () => Promise<AttestationDocument>
  readonly s3: S3Client
  /** One progress line (no newline). */
  readonly report: (line: string) => void
}

/** What an export did. */
export interface ExportResult {
  readonly manifest: ExportManifest
  readonly downloaded: number
  readonly skipped: number
}

/** An export whose bytes did not match what S3 said they are (size or MD5). */
export class ExportIntegrityError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ExportIntegrityError'
  }
}

async function sha256OfFile(path: string): Promise<{ sha256: string; md5: string; size: number }> {
  const sha = createHash('sha256')
  const md5 = createHash('md5')
  let size = 0
  for await (const chunk of createReadStream(path)) {
    sha.update(chunk as Buffer)
    md5.update(chunk as Buffer)
    size += (chunk as Buffer).byteLength
  }
  return { sha256: sha.digest('hex'), md5: md5.digest('hex'), size }
}

/** True for a single-part ETag, which is the MD5 of the object's bytes. */
const isMd5Etag = (etag: string): boolean => /^[0-9a-f]{32}$/.test(etag)

/**
 * Runs `fn` over `items`, at most `limit` at a time, results in input order. On a failure no new
 * item starts, and the first error is thrown only once the calls in flight have ended, so no
 * download is still writing when the export gives up.
 */
async function mapSettled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  let failed = false
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failed) {
      const i = next++
      try {
        out[i] = await fn(items[i] as T)
      } catch (err) {
        failed = true
        throw err
      }
    }
  })
  const settled = await Promise.allSettled(workers)
  const rejected = settled.find((r) => r.status === 'rejected')
  if (rejected !== undefined) throw (rejected as PromiseRejectedResult).reason
  return out
}

/** The file an object's key maps to, relative to the export folder. */
const fileOf = (key: string): string => `${OBJECTS_DIR}/${localNameOf(key)}`

/**
 * Entries a previous run into this folder left: its manifest, then its journal (later lines
 * win). Only entries whose file is the one their key maps to are kept, so a tampered manifest
 * cannot make the export touch a path outside `objects/`. A folder holding another bucket's
 * export is refused.
 */
async function previousEntries(
  folder: string,
  bucket: string,
): Promise<Map<string, ManifestObject>> {
  const out = new Map<string, ManifestObject>()
  const keep = (o: ManifestObject) => {
    if (typeof o?.key === 'string' && o.file === fileOf(o.key)) out.set(o.key, o)
  }
  let manifest: ExportManifest | undefined
  try {
    manifest = JSON.parse(await readFile(join(folder, MANIFEST_FILE), 'utf8')) as ExportManifest
  } catch {
    // no manifest (first run) or an unreadable one: everything is fetched again
  }
  if (manifest !== undefined && manifest.bucket !== bucket) {
    throw new Error(
      `Cannot export "${bucket}" into "${folder}": it holds an export of bucket "${manifest.bucket}"`,
    )
  }
  for (const o of manifest?.objects ?? []) keep(o)
  try {
    for (const line of (await readFile(join(folder, JOURNAL_FILE), 'utf8')).split('\n')) {
      if (line === '') continue
      try {
        const o = JSON.parse(line) as ManifestObject & { bucket?: string }
        if (o.bucket === bucket)
          keep({ key: o.key, size: o.size, etag: o.etag, sha256: o.sha256, file: o.file })
      } catch {
        // a line torn by a crash: that object is fetched again
      }
    }
  } catch {
    // no journal
  }
  return out
}

/**
 * Streams one object into `objects/`: a temp file, SHA-256 and MD5 computed while it streams,
 * size and (single-part) MD5 checked against what S3 said, fsync, rename.
 */
async function download(
  deps: ExportDeps,
  listed: { key: string; size: number; etag: string },
): Promise<ManifestObject> {
  const dir = join(deps.folder, OBJECTS_DIR)
  const name = localNameOf(listed.key)
  const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`)
  const object = await deps.s3.getObject(deps.bucket, listed.key)
  const sha = createHash('sha256')
  const md5 = createHash('md5')
  let size = 0
  const handle = await open(tmp, 'wx', 0o600)
  try {
    for await (const chunk of object.body) {
      const bytes = chunk as Buffer
      sha.update(bytes)
      md5.update(bytes)
      size += bytes.byteLength
      await handle.write(bytes)
    }
    await handle.sync()
  } catch (err) {
    await handle.close()
    await rm(tmp, { force: true })
    throw err
  }
  await handle.close()
  const md5Hex = md5.digest('hex')
  const problem =
    size !== object.size
      ? `received ${size} bytes, S3 announced ${object.size}`
      : isMd5Etag(object.etag) && md5Hex !== object.etag
        ? `the bytes' MD5 ${md5Hex} is not the ETag ${object.etag}`
        : undefined
  if (problem !== undefined) {
    await rm(tmp, { force: true })
    throw new ExportIntegrityError(`Cannot export "${listed.key}": ${problem}`)
  }
  await rename(tmp, join(dir, name))
  // What was downloaded: if the object changed since the listing, its new size and ETag, so the
  // list digest differs from the attestation's and another round picks the change up.
  return {
    key: listed.key,
    size,
    etag: object.etag,
    sha256: sha.digest('hex'),
    file: `${OBJECTS_DIR}/${name}`,
  }
}

/**
 * Exports a bucket into `folder`: attests, lists (ListObjectsV2) and copies every object whose
 * file is not already there with the listed size and ETag and a matching SHA-256, removes files
 * of keys no longer listed, then checks the list digest of what it holds against the
 * attestation's. A mismatch means the bucket changed meanwhile: it attests and copies again,
 * up to `MAX_ROUNDS` times. Interrupted runs resume from the journal. Ends with `manifest.json`.
 */
export async function exportBucket(deps: ExportDeps): Promise<ExportResult> {
  const objectsDir = join(deps.folder, OBJECTS_DIR)
  await mkdir(objectsDir, { recursive: true })
  for (const name of await readdir(objectsDir)) {
    if (name.startsWith('.tmp-')) await rm(join(objectsDir, name), { force: true })
  }
  const known = await previousEntries(deps.folder, deps.bucket)
  const checked = new Set<string>()
  const fetched = new Set<string>()
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const attestation = await deps.attest()
    const statement = attestation.statement
    const entries: ManifestObject[] = []
    const listedKeys = new Set<string>()
    for await (const page of deps.s3.listObjects(deps.bucket)) {
      // Up to PARALLEL objects of a page at a time; entries keep the listing's order.
      const results = await mapSettled(page, PARALLEL, async (listed) => {
        const previous = known.get(listed.key)
        if (
          previous !== undefined &&
          previous.size === listed.size &&
          previous.etag === listed.etag &&
          previous.file === fileOf(listed.key) &&
          (checked.has(listed.key) ||
            (await sha256OfFile(join(deps.folder, previous.file)).then(
              (f) => f.sha256 === previous.sha256 && f.size === previous.size,
              () => false,
            )))
        ) {
          checked.add(listed.key)
          return previous
        }
        let entry: ManifestObject
        try {
          entry = await download(deps, listed)
        } catch (err) {
          // Deleted since the listing: the digest will differ and the next round sees it gone.
          if (err instanceof S3CallError && err.code === 'NoSuchKey') return null
          throw err
        }
        known.set(entry.key, entry)
        checked.add(entry.key)
        fetched.add(entry.key)
        await appendFile(
          join(deps.folder, JOURNAL_FILE),
          `${JSON.stringify({ bucket: deps.bucket, ...entry })}\n`,
        )
        return entry
      })
      for (const [i, result] of results.entries()) {
        if (result !== null) {
          listedKeys.add(result.key)
          entries.push(result)
        } else {
          listedKeys.delete((page[i] as { key: string }).key)
        }
      }
    }
    await fsyncDir(objectsDir)
    for (const key of [...known.keys()]) {
      if (listedKeys.has(key)) continue
      await rm(join(deps.folder, fileOf(key)), { force: true })
      known.delete(key)
    }
    const digest = new ListDigest()
    for (const e of entries) digest.add(e.key, e.size, e.etag)
    const matches =
      digest.count === statement.objectCount &&
      digest.bytes === statement.totalBytes &&
      digest.digest() === statement.listDigest
    if (matches) {
      const manifest: ExportManifest = {
        v: 1,
        type: 'sovra.bucket-export',
        bucket: deps.bucket,
        dc: statement.dc,
        exportedAt: new Date().toISOString(),
        rounds: round,
        attestation,
        objects: entries,
      }
      await atomicWrite(join(deps.folder, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`)
      await rm(join(deps.folder, JOURNAL_FILE), { force: true })
      // Files no entry names (a crash between a rename and its journal line): not the bucket's.
      const named = new Set(entries.map((e) => e.file.slice(OBJECTS_DIR.length + 1)))
      for (const name of await readdir(objectsDir)) {
        if (!named.has(name)) await rm(join(objectsDir, name), { force: true })
      }
      const downloaded = entries.filter((e) => fetched.has(e.key)).length
      return { manifest, downloaded, skipped: entries.length - downloaded }
    }
    deps.report(
      `The bucket changed during the export (round ${round}: ${digest.count} objects copied, the attestation says ${statement.objectCount}); attesting again and copying the changes`,
    )
  }
  throw new Error(
    `Cannot export "${deps.bucket}": it kept changing during ${MAX_ROUNDS} rounds; the copies so far are kept, run the export again when writes have stopped`,
  )
}

/** What checking an export folder found. */
export interface ExportCheck {
  readonly manifest: ExportManifest
  /** Each problem found, one line each; empty when the export verifies. */
  readonly problems: readonly string[]
  /** Whether the attestation's signature was checked (a verifier key was given). */
  readonly signatureChecked: boolean
}

/**
 * Checks an export folder: the manifest's (key, size, ETag) list against the attestation's count,
 * bytes and list digest, each file's size and SHA-256 (and MD5 for single-part ETags), files the
 * manifest does not list, and, with a verifier key, the attestation's signature.
 */
export async function verifyExport(
  folder: string,
  options: { readonly verifierKey?: string } = {},
): Promise<ExportCheck> {
  const text = await readFile(join(folder, MANIFEST_FILE), 'utf8').catch((err: Error) => {
    throw new Error(`Cannot read the manifest of "${folder}": ${err.message}`)
  })
  const manifest = JSON.parse(text) as ExportManifest
  if (manifest.v !== 1 || manifest.type !== 'sovra.bucket-export') {
    throw new Error(`Cannot read "${join(folder, MANIFEST_FILE)}": it is not an export manifest`)
  }
  const attestation = parseAttestation(JSON.stringify(manifest.attestation))
  const problems: string[] = []
  if (options.verifierKey !== undefined) {
    const check = verifyAttestation(attestation, options.verifierKey)
    if (!check.ok) problems.push(`attestation: ${check.reason}`)
  }
  const statement = attestation.statement
  if (statement.bucket !== manifest.bucket || statement.dc !== manifest.dc) {
    problems.push(
      `attestation: it is of bucket "${statement.bucket}" in ${statement.dc}, the manifest of "${manifest.bucket}" in ${manifest.dc}`,
    )
  }
  const digest = new ListDigest()
  try {
    for (const o of manifest.objects) digest.add(o.key, o.size, o.etag)
    const listDigest = digest.digest()
    if (digest.count !== statement.objectCount)
      problems.push(
        `list: the manifest lists ${digest.count} objects, the attestation ${statement.objectCount}`,
      )
    if (digest.bytes !== statement.totalBytes)
      problems.push(
        `list: the manifest's objects hold ${digest.bytes} bytes, the attestation says ${statement.totalBytes}`,
      )
    if (listDigest !== statement.listDigest)
      problems.push(
        `list: the manifest's list digest ${listDigest} is not the attestation's ${statement.listDigest}`,
      )
  } catch (err) {
    problems.push(`list: ${(err as Error).message}`)
  }
  const listed = new Set<string>()
  for (const o of manifest.objects) {
    const name = o.file.startsWith(`${OBJECTS_DIR}/`) ? o.file.slice(OBJECTS_DIR.length + 1) : ''
    if (!isLocalName(name) || name !== localNameOf(o.key)) {
      problems.push(`"${o.key}": its file "${o.file}" is not the one its key maps to`)
      continue
    }
    listed.add(name)
    const found = await sha256OfFile(join(folder, o.file)).catch(() => undefined)
    if (found === undefined) {
      problems.push(`"${o.key}": ${o.file} is missing`)
    } else if (found.size !== o.size) {
      problems.push(`"${o.key}": ${o.file} holds ${found.size} bytes, the manifest says ${o.size}`)
    } else if (found.sha256 !== o.sha256) {
      problems.push(
        `"${o.key}": ${o.file} has SHA-256 ${found.sha256}, the manifest says ${o.sha256}`,
      )
    } else if (isMd5Etag(o.etag) && found.md5 !== o.etag) {
      problems.push(`"${o.key}": ${o.file} has MD5 ${found.md5}, its ETag is ${o.etag}`)
    }
  }
  for (const name of await readdir(join(folder, OBJECTS_DIR)).catch(() => [] as string[])) {
    if (!listed.has(name)) problems.push(`${OBJECTS_DIR}/${name}: not in the manifest`)
  }
  return { manifest, problems, signatureChecked: options.verifierKey !== undefined }
}
