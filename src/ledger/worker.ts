/** What a background worker reports (STYLE habit 18; shown by the admin API later). */
export type WorkerStatus =
  | {
      readonly state: 'stopped'
      readonly name: string
      readonly lastError?: string
      readonly progress?: Readonly<Record<string, number>>
    }
  | {
      readonly state: 'idle' | 'busy'
      readonly name: string
      /** The last failure, kept until a run succeeds; the worker retries with backoff. */
      readonly lastError?: string
      /** Worker-specific counters (the ledger integrator: integrated, sequenced, pending). */
      readonly progress?: Readonly<Record<string, number>>
    }

/** A named background job with a lifecycle. */
export interface Worker {
  readonly name: string
  /** Starts the loop; a no-op when running. */
  start(): void
  /** Stops the loop and resolves once the run in progress (if any) has finished. */
  stop(): Promise<void>
  status(): WorkerStatus
}
