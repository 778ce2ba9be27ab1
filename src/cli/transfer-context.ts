import type { Command } from 'commander'
import { createLogger } from '../core/index.js'
import { openDirectory } from '../directory/index.js'
import { createTransferService, loadExportRules, type TransferService } from '../residency/index.js'
import { createContext } from './cli-context.js'
import type { CliIo } from './cli-io.js'

/**
 * Runs `fn` with a transfer service over the data folder (`--data-dir`, else the configuration's
 * `dataDir`), without cells: it records (signing keys, accepted instructions) in the directory,
 * which a running server shares; the server logs and runs what is queued within a second.
 * Until the admin API serves these operations, this is how the CLI reaches them.
 */
export async function withTransfers<T>(
  io: CliIo,
  command: Command,
  fn: (transfers: TransferService) => Promise<T>,
): Promise<T> {
  const { dataDir } = command.opts<{ dataDir?: string }>()
  const dir = dataDir ?? createContext(io, command).config.dataDir
  const directory = await openDirectory({ dataDir: dir })
  try {
    const transfers = createTransferService({
      directory,
      exportRules: loadExportRules(),
      logger: createLogger('silent'),
      now: Date.now,
    })
    return await fn(transfers)
  } finally {
    await directory.close()
  }
}

/** The `--data-dir` option every server-side transfer command takes. */
export const DATA_DIR_OPTION = [
  '--data-dir <dir>',
  "data folder (default: the configuration's dataDir)",
] as const
