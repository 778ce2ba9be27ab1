import { deepFreeze } from './deep-freeze.js'
import type { SovraConfig } from './schema.js'

/** The embedded default: one process hosting every data center of DESIGN.md's topology. */
export const DEFAULT_CONFIG: SovraConfig = deepFreeze({
  dataDir: './data',
  bindAddress: '127.0.0.1',
  publicHost: '127.0.0.1',
  adminPort: 9000,
  logLevel: 'info',
  dataCenters: [
    dc('cn-hangzhou', 'China (Hangzhou)', 'Hangzhou', 'CN', 9001),
    dc('us-west-1', 'US West (Silicon Valley)', 'Silicon Valley', 'US', 9002),
    dc('us-east-1', 'US East (Virginia)', 'Virginia', 'US', 9003),
    dc('ap-southeast-1', 'Singapore', 'Singapore', 'SG', 9004),
    dc('ap-northeast-1', 'Japan (Tokyo)', 'Tokyo', 'JP', 9005),
    { ...dc('ap-south-1', 'India (Mumbai)', 'Mumbai', 'IN', 9006), status: 'planned' },
    dc('me-east-1', 'UAE (Dubai)', 'Dubai', 'AE', 9007),
  ],
  s3: { maxClockSkewSeconds: 900, inlineMaxBytes: 65_536, maxHeaderBytes: 16_384 },
  ledger: {
    enabled: true,
    reads: 'async',
    batchMaxDelayMs: 2,
    maxPending: 200_000,
    witnesses: [],
    witnessQuorum: 0,
  },
  kms: { cacheTtlMs: 60_000, cacheMaxEntries: 1_024 },
  keyRotation: { batchSize: 64, concurrency: 4, pauseMs: 0 },
  lifecycle: { enabled: true, intervalMs: 3_600_000, dayMs: 86_400_000, batchSize: 500 },
  rootCredentials: {},
})

function dc(id: string, name: string, city: string, jurisdiction: string, port: number) {
  return { id, name, city, jurisdiction, status: 'active', port } as const
}
