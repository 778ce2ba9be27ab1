export type { Cell, CellDataCenter } from './cell.js'
export { cellDir, createCell } from './cell.js'
export { type CellLedger, type CellLedgerOptions, openCellLedger } from './cell-ledger.js'
export type { EventQuery, IndexedEntry, LedgerEventIndex } from './ledger-index.js'
export { ledgerReceipt } from './ledger-receipt.js'
export {
  MAX_EVENTS_PAGE,
  type ProvenEvent,
  type TenantEventsPage,
  TenantEventsRangeError,
  type TenantEventsRequest,
  tenantEvents,
} from './tenant-events.js'
