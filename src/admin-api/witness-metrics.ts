import { Gauge, type Registry } from 'prom-client'
import type { WitnessingStatus } from '../ledger/index.js'

/** One data center's witnessing, as the metrics read it. */
export interface WitnessedLedger {
  readonly dc: string
  status(): WitnessingStatus
}

/**
 * Registers the witnessing gauges, read at scrape time: the size of the newest checkpoint a
 * quorum cosigned (per data center), and per witness the size it last accepted and its failed
 * submissions since start. An operator alerts when the cosigned size stops following the log.
 */
export function registerWitnessMetrics(
  registry: Registry,
  ledgers: () => readonly WitnessedLedger[],
): void {
  new Gauge({
    name: 'sovra_ledger_witness_cosigned_size',
    help: 'Tree size of the newest checkpoint cosigned by a quorum of witnesses',
    labelNames: ['dc'],
    registers: [registry],
    collect() {
      this.reset()
      for (const l of ledgers()) {
        const size = l.status().cosignedSize
        if (size !== undefined) this.set({ dc: l.dc }, size)
      }
    },
  })
  new Gauge({
    name: 'sovra_ledger_witness_size',
    help: 'Tree size each witness last accepted',
    labelNames: ['dc', 'witness'],
    registers: [registry],
    collect() {
      this.reset()
      for (const l of ledgers()) {
        for (const w of l.status().witnesses) this.set({ dc: l.dc, witness: w.name }, w.size)
      }
    },
  })
  new Gauge({
    name: 'sovra_ledger_witness_failures',
    help: 'Failed checkpoint submissions per witness since start',
    labelNames: ['dc', 'witness'],
    registers: [registry],
    collect() {
      this.reset()
      for (const l of ledgers()) {
        for (const w of l.status().witnesses) this.set({ dc: l.dc, witness: w.name }, w.failures)
      }
    },
  })
}
