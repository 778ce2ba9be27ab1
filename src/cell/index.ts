export type { Cell, CellDataCenter } from './cell.js'
export { cellDir, createCell } from './cell.js'
export { type CellLedger, type CellLedgerOptions, openCellLedger } from './cell-ledger.js'
