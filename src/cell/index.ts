export type { Cell, CellDataCenter } from './cell.js'
export { cellDir, createCell } from './cell.js'
export type { CellLedger, CellLedgerOptions } from './cell-ledger.js'
