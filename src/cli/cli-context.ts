import type { Command } from 'commander'
import { loadConfig, type SovraConfig } from '../config/index.js'
import { type Directory, openDirectory } from '../directory/index.js'
import type { CliIo } from './cli-io.js'

/** What every command gets: its io, the loaded config, and a way to open the directory. */
export interface CliContext {
  readonly io: CliIo
  readonly config: SovraConfig
  /** Opens the directory, runs `fn`, and always closes it. */
  withDirectory<T>(fn: (directory: Directory) => Promise<T>): Promise<T>
}

/** Loads the configuration named by the global `--config` option (or `SOVRA_CONFIG`). */
export function createContext(io: CliIo, command: Command): CliContext {
  const { config: file } = command.optsWithGlobals<{ config?: string }>()
  const config = loadConfig({ file, env: io.env })
  return {
    io,
    config,
    async withDirectory(fn) {
      const directory = await openDirectory({ dataDir: config.dataDir })
      try {
        return await fn(directory)
      } finally {
        await directory.close()
      }
    },
  }
}
