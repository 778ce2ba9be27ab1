import type {
  Directory,
  SigningKeyRecord,
  TransferRecord,
  TransferStatus,
} from '../../directory/index.js'
import { DirectoryErrors } from '../../directory/index.js'
import {
  type CoveredCopy,
  type CoveredSource,
  TransferGate,
  type TransferGateDeps,
} from './gate.js'
import { ResidencyErrors } from './residency-error.js'
import { importPublicKey, isPrivateKeyText, publicKeyId } from './signing-keys.js'
import type { TransferRequest } from './verify-instruction.js'

/**
 * Everything the faces (admin API, S3) ask of the transfer gate: tenants' signing keys,
 * submitting instructions, and the jobs' status. main.ts builds one with the cells; one built
 * without cells (tests) only records, and a server sharing the directory runs what it recorded.
 */
export interface TransferService {
  /**
   * Registers an Ed25519 public key (SPKI PEM, or the raw 32 bytes in base64/base64url); refuses
   * a private key (`SigningKeyIsPrivate`) before parsing it, and anything else (`SigningKeyInvalid`).
   */
  addPublicKey(tenant: string, publicKey: string): Promise<SigningKeyRecord>
  /** A tenant's signing keys, revoked ones included (with `revokedAt`). */
  listPublicKeys(tenant: string): Promise<SigningKeyRecord[]>
  /** Revokes a key; `tenant`, when given, must own it. */
  revokePublicKey(keyId: string, tenant?: string): Promise<SigningKeyRecord>
  /** Verifies, records and (in a server) logs and runs a signed instruction. */
  submit(
    document: unknown,
    tenant: string,
    options?: { readonly request?: TransferRequest },
  ): Promise<TransferRecord>
  /** One transfer; `tenant`, when given, must own it. */
  status(id: string, tenant?: string): Promise<TransferRecord>
  /** Transfers, newest first; `limit` keeps the newest ones. */
  list(filter?: {
    readonly tenant?: string
    readonly statuses?: readonly TransferStatus[]
    readonly limit?: number
  }): Promise<TransferRecord[]>
  /** For the S3 face: see `TransferGate.openCoveredSource`. */
  openCoveredSource(copy: CoveredCopy): Promise<CoveredSource | null>
  start(): void
  close(): Promise<void>
  /** Resolves when every job scheduled so far has run (tests). */
  idle(): Promise<void>
}

/** Builds the service over the directory (and, in a server, the cells). */
export function createTransferService(deps: TransferGateDeps): TransferService {
  const gate = new TransferGate(deps)
  const directory: Directory = deps.directory
  const tenantIdOf = async (tenant: string) => {
    const found = await directory.getTenant(tenant)
    if (found === null) throw DirectoryErrors.noSuchTenant(tenant)
    return found.id
  }
  return {
    async addPublicKey(tenant, publicKey) {
      // Checked first: a private key sent by mistake is neither parsed, nor echoed, nor stored.
      if (isPrivateKeyText(publicKey)) throw ResidencyErrors.signingKeyIsPrivate()
      let key: ReturnType<typeof importPublicKey>
      try {
        key = importPublicKey(publicKey)
      } catch (err) {
        throw ResidencyErrors.signingKeyInvalid(
          (err as Error).message.replace(/^Cannot [^:]*: /, ''),
        )
      }
      return directory.addSigningKey({
        tenantId: await tenantIdOf(tenant),
        keyId: publicKeyId(key),
        publicKey: key.export({ format: 'pem', type: 'spki' }).toString(),
      })
    },
    listPublicKeys: (tenant) => directory.listSigningKeys(tenant),
    async revokePublicKey(keyId, tenant) {
      const key = await directory.getSigningKey(keyId)
      if (key === null || (tenant !== undefined && key.tenantId !== (await tenantIdOf(tenant)))) {
        throw DirectoryErrors.noSuchSigningKey(keyId)
      }
      return directory.revokeSigningKey(keyId)
    },
    submit: (document, tenant, options) => gate.submit(document, tenant, options),
    async status(id, tenant) {
      const t = await directory.getTransfer(id)
      if (t === null || (tenant !== undefined && t.tenantId !== (await tenantIdOf(tenant)))) {
        throw DirectoryErrors.noSuchTransfer(id)
      }
      return t
    },
    async list(filter = {}) {
      return directory.listTransfers({
        ...(filter.tenant === undefined ? {} : { tenantId: filter.tenant }),
        ...(filter.statuses === undefined ? {} : { statuses: filter.statuses }),
        ...(filter.limit === undefined ? {} : { limit: filter.limit }),
      })
    },
    openCoveredSource: (copy) => gate.openCoveredSource(copy),
    start: () => gate.start(),
    close: () => gate.close(),
    idle: () => gate.idle(),
  }
}
