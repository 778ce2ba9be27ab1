export type { Cell, CellDataCenter } from './cell.js'
export { cellDir, createCell } from './cell.js'
export type { CellKeys } from './cell-keys.js'
export type { CellLedger, CellLedgerOptions } from './cell-ledger.js'
export {
  type CryptoCell,
  decryptingRead,
  encryptingWrite,
  type ObjectIdentity,
  type ReadKeys,
  type SealedData,
} from './object-crypto.js'
