export * from './export-rules/index.js'
export type { PlacementDecision } from './placement.js'
export { placementOf } from './placement.js'
export * from './transfer/index.js'
