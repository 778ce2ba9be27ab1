import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthResult } from '../access/index.js'
import type { Cell } from '../cell/index.js'
import type { Logger } from '../core/index.js'
import type { BucketRecord } from '../meta/index.js'
import type { TransferService } from '../residency/index.js'
import type { S3Metrics } from './metrics.js'
import type { PostForm } from './multipart-form.js'
import type { S3Request } from './router.js'

/** A bucket's entry in the directory. */
export interface DirectoryBucket {
  readonly name: string
  readonly tenantId: string
  readonly dcId: string
  readonly createdAt: number
}

/** A tenant as the S3 face sees it. */
export interface S3Tenant {
  readonly id: string
  readonly name: string
  readonly canonicalId: string
}

/** Who sends a request: a tenant (signed) or nobody in particular (unsigned). */
export type S3Requester =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'tenant'; readonly tenant: S3Tenant }

/** The subset of the directory the S3 face uses. */
export interface S3Directory {
  lookupAccessKey(
    accessKeyId: string,
  ): Promise<{ readonly tenantId: string; readonly secretAccessKey: string } | null>
  getTenant(idOrName: string): Promise<S3Tenant | null>
  getBucket(name: string): Promise<DirectoryBucket | null>
  listBuckets(tenantId: string): Promise<readonly DirectoryBucket[]>
  reserveBucket(bucket: { name: string; tenantId: string; dcId: string }): Promise<unknown>
  releaseBucket(name: string): Promise<void>
  /** The tenant's ledger secret, the key of its commitments in the public log. */
  ledgerSecretOf(tenantId: string): Promise<Buffer>
}

/** Settings of the S3 face. */
export interface S3Settings {
  readonly maxClockSkewMs: number
  readonly inlineMaxBytes: number
  /** Host names that mean virtual-hosted style when prefixed by a bucket (`bucket.localhost`). */
  readonly virtualHostSuffixes: readonly string[]
  /** Whether reads wait for their ledger event (`sync`) or not (`async`). */
  readonly ledgerReads: 'sync' | 'async'
  /** False only to measure the log's cost: nothing is recorded. */
  readonly ledgerEnabled: boolean
}

/** Everything a data center's S3 endpoint is built from. */
export interface S3Deps {
  readonly cell: Cell
  readonly directory: S3Directory
  /** The S3 endpoint URL of a data center, for redirects; null when it does not serve. */
  readonly endpointOf: (dcId: string) => string | null
  /** This data center's lifecycle status (only `active` accepts new buckets). */
  readonly dcStatus: () => string
  readonly logger: Logger
  /**
   * The transfer gate, for CopyObject/UploadPartCopy from a bucket in another data center that
   * names a submitted instruction (`x-sovra-transfer-instruction`). Absent: such copies are refused.
   */
  readonly transfers?: Pick<TransferService, 'openCoveredSource'>
  readonly metrics: S3Metrics
  readonly settings: S3Settings
  readonly now: () => number
}

/** One request on its way through the S3 face. */
export interface RequestContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly deps: S3Deps
  readonly requestId: string
  readonly log: Logger
  readonly s3: S3Request
  readonly auth: AuthResult
  /**
   * The tenant that owns the bucket: its keys, its ledger secret and its listings. For
   * ListBuckets and CreateBucket (no bucket yet), the requesting tenant.
   */
  readonly tenant: S3Tenant
  /**
   * Who sends the request: the owner, another tenant a policy or ACL lets in, or anonymous. The
   * authorizer has let it through before any handler runs; ledger events name it as the actor.
   */
  readonly requester: S3Requester
  /** The bucket's directory entry, when the operation names an existing bucket. */
  readonly bucket: DirectoryBucket | null
  /**
   * The bucket's record in this cell as the authorizer read it at the start of the request
   * (absent when the bucket lives elsewhere or the operation names none); `bucketRecordOf` hands
   * it out instead of reading it again.
   */
  readonly bucketRecord?: BucketRecord
  /** PostObject: the form read up to its file (its fields authenticated the request). */
  readonly postForm?: PostForm
}
