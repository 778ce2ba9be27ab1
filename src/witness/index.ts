/**
 * A c2sp.org/tlog-witness server (`sovra witness serve`): it cosigns each checkpoint of the logs
 * it knows once it has checked it extends the last one it cosigned, so a log cannot show two
 * histories to two parties without a quorum of witnesses signing both.
 */
export type { WitnessKey } from './witness-key.js'
export { loadOrCreateWitnessKey, readWitnessKey, WITNESS_KEY_FILE } from './witness-key.js'
export type { RunningWitness, WitnessServerOptions } from './witness-server.js'
export {
  createWitnessHandler,
  MAX_ADD_CHECKPOINT_BYTES,
  startWitness,
  WITNESS_STATE_FILE,
  witnessedLogs,
} from './witness-server.js'
