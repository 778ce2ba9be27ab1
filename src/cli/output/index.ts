export { renderJson } from './json.js'
export type { Column } from './table.js'
export { formatTime, renderTable } from './table.js'
