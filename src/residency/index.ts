export type { PlacementDecision } from './placement.js'
export { placementOf } from './placement.js'
