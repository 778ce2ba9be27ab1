import {
  ATTESTATION_TYPE,
  type Attestation,
  attestationHash,
  commit,
  encodeEvent,
  LEDGER_EVENT_SCHEMA,
  ListDigest,
} from '../ledger/index.js'
import type { Cell } from './cell.js'

/** Keys read per metadata query while hashing a bucket's listing. */
const PAGE = 1000

/** What `attestBucket` needs to know of the caller. */
export interface AttestRequest {
  readonly bucket: string
  readonly tenantId: string
  /** The access key that signed the request, for the event's actor. */
  readonly accessKeyId: string
  /** The tenant's ledger secret: commitments in the statement and the event. */
  readonly secret: Uint8Array
  /** False when the ledger is switched off (`ledger.enabled: false`): no event is logged. */
  readonly logEvent: boolean
  readonly now: () => number
}

/** A signed attestation and the index of its `bucket.attested` event (null when not logged). */
export interface AttestResult {
  readonly attestation: Attestation
  readonly ledgerIndex: number | null
}

/**
 * Signs a residency attestation of one bucket of this cell with the data center's ledger key:
 * its object count, bytes and list digest, hashed page by page in key order (constant memory),
 * and the latest published checkpoint. Logs a `bucket.attested` event and waits until it is
 * sequenced, so no attestation is handed out that the log does not record. Null when the cell
 * holds no bucket of that name for that tenant (the caller answers NoSuchBucket).
 *
 * Each page is one consistent read; writes between pages may or may not be counted, as in a
 * ListObjectsV2 walk. The statement says what this walk saw.
 */
export async function attestBucket(
  cell: Cell,
  request: AttestRequest,
): Promise<AttestResult | null> {
  const record = await cell.meta.getBucket(request.bucket)
  if (record === null || record.tenantId !== request.tenantId) return null
  const checkpoint = (await cell.ledger.servedCheckpoint()) ?? null
  const digest = new ListDigest()
  let after: string | null = null
  for (;;) {
    const page = await cell.meta.listObjects(request.bucket, {
      prefix: '',
      delimiter: null,
      after,
      maxKeys: PAGE,
    })
    for (const o of page.objects) digest.add(o.key, o.size, o.etag)
    if (!page.isTruncated || page.lastReturned === null) break
    after = page.lastReturned
  }
  const objectCount = digest.count
  const totalBytes = digest.bytes
  const attestation = cell.ledger.signAttestation({
    v: 1,
    type: ATTESTATION_TYPE,
    bucket: request.bucket,
    dc: cell.dc.id,
    jurisdiction: cell.dc.jurisdiction,
    tenant: request.tenantId,
    tenantCommitment: commit(request.secret, request.tenantId),
    objectCount,
    totalBytes,
    listDigest: digest.digest(),
    issuedAt: new Date(request.now()).toISOString(),
    checkpoint,
  })
  if (!request.logEvent) return { attestation, ledgerIndex: null }
  const { index } = await cell.ledger.log.append(
    encodeEvent({
      schema: LEDGER_EVENT_SCHEMA,
      type: 'bucket.attested',
      at: attestation.statement.issuedAt,
      dc: cell.dc.id,
      actor: {
        kind: 'tenant',
        tenant: commit(request.secret, request.tenantId),
        accessKey: commit(request.secret, request.accessKeyId),
      },
      tenant: commit(request.secret, request.tenantId),
      bucket: commit(request.secret, request.bucket),
      objects: objectCount,
      bytes: totalBytes,
      statement: commit(request.secret, attestationHash(attestation.statement)),
    }),
  )
  return { attestation, ledgerIndex: index }
}
