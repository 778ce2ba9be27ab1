import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmod, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../core/index.js'
import {
  atomicWrite,
  createFileOnce,
  randomBytesPooled,
  readIfExists,
  removeDurably,
} from '../../core/index.js'
import { isKeyError, KeyErrors } from '../key-error.js'
import {
  checkDek,
  encodeKeyContext,
  type KeyContext,
  type KeyProvider,
  type SupportsKeyDestruction,
  type SupportsKeyRotation,
  throwIfAborted,
  type WrappedKey,
  wrappedPayload,
} from '../key-provider.js'
import { DekCache } from './dek-cache.js'

/** Configuration of one data center's key provider. */
export interface DcKeyProviderConfig {
  /** The data center this provider acts for; every key it holds is bound to it. */
  readonly dc: string
  /** That data center's folder: keys live in `<dcDir>/keys/`. */
  readonly dcDir: string
}

/**
 * Whether `bucket` exists now (the cell's metadata store answers). A bucket's first KEK is created
 * only while it does, so a write racing DeleteBucket cannot bring back a key that crypto-shredding
 * destroyed: DeleteBucket removes the bucket's row before it destroys the key file.
 */
export type BucketExists = (bucket: string) => Promise<boolean>

const NAME = 'dc'
const MASTER_FORMAT = 'sovra-dc-master-key'
const KEK_FORMAT = 'sovra-dc-bucket-keks'
const NONCE = 12
const TAG = 16

/**
 * Bounds of the provider's cache of unwrapped data keys. The bucket KEKs that unwrap them are in
 * this process's memory anyway, so the cache exposes nothing new; it saves a GCM open per read
 * of a small object. Destroying a bucket's key empties it.
 */
export const DC_DEK_CACHE = Object.freeze({ maxEntries: 4096, ttlMs: 300_000 })

/** The master key file of a data center folder. */
export function masterKeyPath(dcDir: string): string {
  return join(dcDir, 'keys', 'master.key')
}

interface MasterKeyFile {
  readonly format: typeof MASTER_FORMAT
  readonly version: 1
  readonly dc: string
  readonly key: string
}

interface BucketKeksFile {
  readonly format: typeof KEK_FORMAT
  readonly version: 1
  readonly dc: string
  readonly bucket: string
  readonly current: number
  /** Key version → KEK sealed under the master key (base64url of nonce ‖ ciphertext ‖ tag). */
  readonly keks: Readonly<Record<string, string>>
}

interface BucketKeks {
  readonly current: number
  readonly keks: ReadonlyMap<number, Buffer>
  readonly file: BucketKeksFile
}

/**
 * The default provider: per-data-center keys, kept in the data center's own folder.
 *
 * - `<dcDir>/keys/master.key` (0600, created on first use, fsynced) holds a random 32-byte master
 *   key and names its data center; a master key copied into another data center's folder is
 *   refused, and two data centers never share one because each draws its own.
 * - `<dcDir>/keys/buckets/<hex(bucket)>.json` holds the bucket's key-encryption keys (KEKs): random
 *   32-byte keys, one per rotation, each sealed under the master key with AAD binding dc, bucket
 *   and version. KEKs are random and stored rather than derived from the master key, because a
 *   derived key could never be destroyed alone: `destroyBucketKey` deletes the file, and every
 *   data key wrapped under it is gone for good (crypto-shredding).
 * - A wrapped data key is `dc:v1:<kek version>:<base64url(nonce ‖ ciphertext ‖ tag)>`, AES-256-GCM
 *   under the KEK with AAD = label ‖ canonical context ‖ version.
 *
 * One process owns a data center's key folder; bucket files are replaced atomically.
 */
export class DcKeyProvider implements KeyProvider, SupportsKeyRotation, SupportsKeyDestruction {
  readonly name = NAME
  readonly #config: Readonly<DcKeyProviderConfig>
  readonly #master: Buffer
  readonly #logger: Logger | undefined
  readonly #bucketExists: BucketExists | undefined
  readonly #buckets = new Map<string, BucketKeks>()
  /** Unwrapped data keys by bucket and wrapped key; see `DC_DEK_CACHE`. */
  readonly #deks = new DekCache(DC_DEK_CACHE)
  /**
   * Each wrap and unwrap's AAD, built once per bucket and key version: it is a pure function of
   * them (every context reaching the cipher passed `#checkDc`), and building it was ~8 µs of a
   * small PUT.
   */
  readonly #aads = new Map<string, Buffer>()
  /** Serializes create/rotate/destroy per bucket. */
  readonly #locks = new Map<string, Promise<unknown>>()

  private constructor(
    config: DcKeyProviderConfig,
    master: Buffer,
    deps: { readonly logger?: Logger; readonly bucketExists?: BucketExists },
  ) {
    this.#config = Object.freeze({ ...config })
    this.#master = master
    this.#logger = deps.logger
    this.#bucketExists = deps.bucketExists
  }

  /**
   * Loads (or creates on first use) the data center's master key. With `bucketExists`, a bucket's
   * first KEK is created only while the bucket exists (without it, on any first wrap).
   */
  static async open(
    config: DcKeyProviderConfig,
    deps: { readonly logger?: Logger; readonly bucketExists?: BucketExists } = {},
  ): Promise<DcKeyProvider> {
    const master = await loadOrCreateMasterKey(config)
    return new DcKeyProvider(config, master, deps)
  }

  async wrap(dek: Buffer, context: KeyContext, signal?: AbortSignal): Promise<WrappedKey> {
    checkDek(dek)
    throwIfAborted(NAME, signal)
    this.#checkDc(context)
    const keks = await this.#keksFor(context.bucket, true)
    if (keks === undefined) throw KeyErrors.notFound(NAME, this.#keyName(context.bucket))
    const kek = keks.keks.get(keks.current) as Buffer
    return `${NAME}:v1:${keks.current}:${seal(kek, dek, dekAad(context, keks.current, this.#aads)).toString('base64url')}`
  }

  async unwrap(wrapped: WrappedKey, context: KeyContext, signal?: AbortSignal): Promise<Buffer> {
    throwIfAborted(NAME, signal)
    const payload = wrappedPayload(NAME, wrapped)
    this.#checkDc(context)
    const cached = this.#deks.get(dekCacheId(context.bucket, wrapped))
    if (cached !== undefined) return cached
    const m = /^v1:([1-9][0-9]{0,8}):([A-Za-z0-9_-]+)$/.exec(payload)
    if (m === null) throw KeyErrors.invalidWrappedKey(NAME, 'the wrapped key is malformed')
    const version = Number(m[1])
    const keks = await this.#keksFor(context.bucket, false)
    if (keks === undefined) throw KeyErrors.notFound(NAME, this.#keyName(context.bucket))
    const kek = keks.keks.get(version)
    if (kek === undefined) {
      throw KeyErrors.invalidWrappedKey(NAME, `key version "${version}" does not exist`)
    }
    let dek: Buffer
    try {
      dek = open(
        kek,
        Buffer.from(m[2] as string, 'base64url'),
        dekAad(context, version, this.#aads),
      )
    } catch (err) {
      throw KeyErrors.invalidWrappedKey(
        NAME,
        'the wrapped key does not authenticate (tampered, or wrapped for another bucket or data center)',
        err,
      )
    }
    this.#remember(context.bucket, keks, wrapped, dek)
    return dek
  }

  async rotate(context: KeyContext, signal?: AbortSignal): Promise<number> {
    throwIfAborted(NAME, signal)
    this.#checkDc(context)
    return this.#locked(context.bucket, async () => {
      const keks = await this.#load(context.bucket)
      if (keks === undefined) await this.#refuseUnlessBucketExists(context.bucket)
      const next = (keks?.current ?? 0) + 1
      const sealed = { ...(keks?.file.keks ?? {}), [next]: this.#sealKek(context.bucket, next) }
      await this.#store(context.bucket, next, sealed)
      this.#logger?.info(
        { dc: this.#config.dc, bucket: context.bucket, version: next },
        'rotated bucket key',
      )
      return next
    })
  }

  keyVersionOf(wrapped: WrappedKey): number | undefined {
    const m = /^dc:v1:([1-9][0-9]{0,8}):/.exec(wrapped)
    return m === null ? undefined : Number(m[1])
  }

  async rewrap(
    wrapped: WrappedKey,
    context: KeyContext,
    signal?: AbortSignal,
  ): Promise<WrappedKey> {
    const dek = await this.unwrap(wrapped, context, signal)
    try {
      return await this.wrap(dek, context, signal)
    } finally {
      dek.fill(0)
    }
  }

  async destroyBucketKey(bucket: string, signal?: AbortSignal): Promise<void> {
    throwIfAborted(NAME, signal)
    await this.#locked(bucket, async () => {
      const cached = this.#buckets.get(bucket)
      this.#buckets.delete(bucket)
      for (const kek of cached?.keks.values() ?? []) kek.fill(0)
      this.#deks.clear()
      const removed = await removeDurably(this.#bucketPath(bucket))
      this.#logger?.info({ dc: this.#config.dc, bucket, removed }, 'destroyed bucket key')
    })
  }

  /** Caches `dek` unless the bucket's keys were dropped (destroyed) while it was unwrapped. */
  #remember(bucket: string, keks: BucketKeks, wrapped: WrappedKey, dek: Buffer): void {
    if (this.#buckets.get(bucket) === keks) this.#deks.set(dekCacheId(bucket, wrapped), dek)
  }

  #checkDc(context: KeyContext): void {
    if (context.dc !== this.#config.dc) {
      throw KeyErrors.accessDenied(
        NAME,
        `data center "${this.#config.dc}" holds no keys for data center "${context.dc}"`,
      )
    }
  }

  #keyName(bucket: string): string {
    return `${this.#config.dc}/${bucket}`
  }

  #bucketPath(bucket: string): string {
    return join(
      this.#config.dcDir,
      'keys',
      'buckets',
      `${Buffer.from(bucket, 'utf8').toString('hex')}.json`,
    )
  }

  async #keksFor(bucket: string, create: boolean): Promise<BucketKeks | undefined> {
    const cached = this.#buckets.get(bucket)
    if (cached !== undefined) return cached
    return this.#locked(bucket, async () => {
      const loaded = await this.#load(bucket)
      if (loaded !== undefined || !create) return loaded
      await this.#refuseUnlessBucketExists(bucket)
      return this.#store(bucket, 1, { 1: this.#sealKek(bucket, 1) })
    })
  }

  /** Called under the bucket's lock before a first KEK is created (see `BucketExists`). */
  async #refuseUnlessBucketExists(bucket: string): Promise<void> {
    if (this.#bucketExists === undefined || (await this.#bucketExists(bucket))) return
    this.#logger?.warn(
      { dc: this.#config.dc, bucket },
      'refused to create a key for a bucket that does not exist (deleted meanwhile?)',
    )
    throw KeyErrors.notFound(NAME, this.#keyName(bucket))
  }

  async #locked<T>(bucket: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(bucket) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const settled = run.then(
      () => undefined,
      () => undefined,
    )
    this.#locks.set(bucket, settled)
    try {
      return await run
    } finally {
      if (this.#locks.get(bucket) === settled) this.#locks.delete(bucket)
    }
  }

  #sealKek(bucket: string, version: number): string {
    const kek = randomBytes(32)
    try {
      return seal(this.#master, kek, kekAad(this.#config.dc, bucket, version)).toString('base64url')
    } finally {
      kek.fill(0)
    }
  }

  async #load(bucket: string): Promise<BucketKeks | undefined> {
    const path = this.#bucketPath(bucket)
    const text = await readIfExists(path)
    if (text === undefined) return undefined
    const file = parseBucketFile(text, path)
    if (file.dc !== this.#config.dc || file.bucket !== bucket) {
      throw KeyErrors.invalidWrappedKey(
        NAME,
        `key file "${path}" belongs to another data center or bucket`,
      )
    }
    const keks = new Map<number, Buffer>()
    for (const [v, sealed] of Object.entries(file.keks)) {
      const version = Number(v)
      try {
        keks.set(
          version,
          open(this.#master, Buffer.from(sealed, 'base64url'), kekAad(file.dc, bucket, version)),
        )
      } catch (err) {
        throw KeyErrors.masterKeyUnavailable(
          masterKeyPath(this.#config.dcDir),
          `it does not open key version "${version}" of bucket "${bucket}"`,
          err,
        )
      }
    }
    if (!keks.has(file.current)) {
      throw KeyErrors.masterKeyUnavailable(path, `current key version "${file.current}" is missing`)
    }
    const entry = { current: file.current, keks, file }
    this.#buckets.set(bucket, entry)
    return entry
  }

  async #store(
    bucket: string,
    current: number,
    sealed: Record<string, string>,
  ): Promise<BucketKeks> {
    const file: BucketKeksFile = {
      format: KEK_FORMAT,
      version: 1,
      dc: this.#config.dc,
      bucket,
      current,
      keks: sealed,
    }
    await atomicWrite(this.#bucketPath(bucket), `${JSON.stringify(file, null, 2)}\n`, {
      dirMode: 0o700,
    })
    this.#buckets.delete(bucket)
    const loaded = await this.#load(bucket)
    return loaded as BucketKeks
  }
}

/** Bucket names hold no NUL, so the id is unambiguous. */
function dekCacheId(bucket: string, wrapped: WrappedKey): string {
  return `${bucket}\0${wrapped}`
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytesPooled(NONCE)
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG })
  cipher.setAAD(aad)
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([nonce, body, cipher.getAuthTag()])
}

function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length !== NONCE + 32 + TAG) throw new RangeError('Sealed key has the wrong length')
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE), {
    authTagLength: TAG,
  })
  decipher.setAAD(aad)
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG))
  return Buffer.concat([
    decipher.update(sealed.subarray(NONCE, sealed.length - TAG)),
    decipher.final(),
  ])
}

function withVersion(label: string, body: Buffer, version: number): Buffer {
  const v = Buffer.alloc(4)
  v.writeUInt32BE(version, 0)
  return Buffer.concat([Buffer.from(label, 'ascii'), body, v])
}

/** AADs of data keys by bucket and key version (the data center is the provider's own). */
const DEK_AADS_MAX = 1024

function dekAad(context: KeyContext, version: number, aads: Map<string, Buffer>): Buffer {
  const id = `${version}\0${context.bucket}`
  let aad = aads.get(id)
  if (aad === undefined) {
    aad = withVersion('sovra/dc-dek/v1\0', encodeKeyContext(context), version)
    if (aads.size >= DEK_AADS_MAX) aads.clear()
    aads.set(id, aad)
  }
  return aad
}

function kekAad(dc: string, bucket: string, version: number): Buffer {
  return withVersion('sovra/dc-kek/v1\0', encodeKeyContext({ dc, bucket }), version)
}

function parseBucketFile(text: string, path: string): BucketKeksFile {
  try {
    const file = JSON.parse(text) as Partial<BucketKeksFile>
    if (
      file.format === KEK_FORMAT &&
      file.version === 1 &&
      typeof file.dc === 'string' &&
      typeof file.bucket === 'string' &&
      Number.isInteger(file.current) &&
      typeof file.keks === 'object' &&
      file.keks !== null
    ) {
      return file as BucketKeksFile
    }
  } catch (err) {
    throw KeyErrors.masterKeyUnavailable(path, 'the bucket key file is not valid JSON', err)
  }
  throw KeyErrors.masterKeyUnavailable(path, 'the bucket key file has an unknown format')
}

async function loadOrCreateMasterKey(config: DcKeyProviderConfig): Promise<Buffer> {
  const path = masterKeyPath(config.dcDir)
  let text: string
  try {
    text =
      (await readIfExists(path)) ??
      (await createFileOnce(
        path,
        `${JSON.stringify({ format: MASTER_FORMAT, version: 1, dc: config.dc, key: randomBytes(32).toString('base64') } satisfies MasterKeyFile)}\n`,
        { dirMode: 0o700 },
      ))
    const mode = (await stat(path)).mode & 0o777
    if (mode !== 0o600) await chmod(path, 0o600)
  } catch (err) {
    if (isKeyError(err)) throw err
    throw KeyErrors.masterKeyUnavailable(
      path,
      err instanceof Error ? err.message : String(err),
      err,
    )
  }
  let file: Partial<MasterKeyFile>
  try {
    file = JSON.parse(text) as Partial<MasterKeyFile>
  } catch (err) {
    throw KeyErrors.masterKeyUnavailable(path, 'it is not valid JSON', err)
  }
  if (file.format !== MASTER_FORMAT || file.version !== 1 || typeof file.key !== 'string') {
    throw KeyErrors.masterKeyUnavailable(path, 'it has an unknown format')
  }
  if (file.dc !== config.dc) {
    throw KeyErrors.masterKeyUnavailable(
      path,
      `it belongs to data center "${String(file.dc)}", not "${config.dc}"`,
    )
  }
  const key = Buffer.from(file.key, 'base64')
  if (key.length !== 32) throw KeyErrors.masterKeyUnavailable(path, 'it does not hold 32 bytes')
  return key
}
