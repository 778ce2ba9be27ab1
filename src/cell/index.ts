export type { Cell, CellDataCenter } from './cell.js'
export { cellDir, createCell } from './cell.js'
