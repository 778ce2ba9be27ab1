import type { SovraConfig } from '../config/index.js'
import type { Logger } from '../core/index.js'
import type { RunningSovra } from '../main.js'

/** Something text can be written to (process.stdout, or a buffer in tests). */
export interface TextSink {
  write(chunk: string): unknown
}

/** The part of `process` that `serve` uses for shutdown. */
export interface CliProcess {
  on(signal: 'SIGTERM' | 'SIGINT', handler: () => void): unknown
  exit(code: number): void
}

/** The composition root's entry point, injectable for tests. */
export type ServeFn = (config: SovraConfig, options: { logger: Logger }) => Promise<RunningSovra>

/** Everything the CLI touches outside itself; tests pass buffers and a fake process. */
export interface CliIo {
  readonly stdout: TextSink
  readonly stderr: TextSink
  readonly env: Readonly<Record<string, string | undefined>>
  /** Signals and exit for `serve`; defaults to `process`. */
  readonly process?: CliProcess
  /** Replaces `serve` from `main.ts` (tests). */
  readonly serve?: ServeFn
  /** HTTP for the `ledger` and `dc` commands; defaults to the global `fetch`. */
  readonly fetch?: (url: string, init?: RequestInit) => Promise<Response>
  /** Where `serve` writes its log; defaults to pino's stdout. */
  readonly logDestination?: NodeJS.WritableStream
}
