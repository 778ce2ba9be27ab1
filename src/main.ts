// Composition root (being written): see serve() below.
import type { SovraConfig } from './config/index.js'
import type { Logger } from './core/index.js'

/** One data center as started by serve(). */
export interface RunningDataCenter {
  readonly id: string
  readonly city: string
  readonly jurisdiction: string
  readonly status: string
  readonly endpoint: string
}

/** A started Sovra: its endpoints, first-start credentials, and a way to stop it. */
export interface RunningSovra {
  readonly dataCenters: readonly RunningDataCenter[]
  readonly adminEndpoint: string
  readonly rootCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | null
  stop(): Promise<void>
}

/** Builds the directory and every cell from config, then starts the S3 and admin faces. */
export async function serve(config: SovraConfig, options: { logger: Logger }): Promise<RunningSovra> {
  void config
  void options
  throw new Error('Not implemented')
}
