import { runCli } from '../../src/cli/index.js'
import type { TestSovra } from './start-server.js'

/** What one CLI run printed, and its exit code. */
export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the `sovra` CLI in this process with `env` as its whole environment. */
export async function runSovraCli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await runCli([...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  })
  return { code, stdout, stderr }
}

/**
 * Runs the CLI as on the machine of a running test server: its data folder (the operator token
 * file) and its admin URL, plus `env` (tenant credentials, for instance).
 */
export function cliOf(
  server: TestSovra,
): (args: readonly string[], env?: Record<string, string>) => Promise<CliRun> {
  return (args, env = {}) =>
    runSovraCli(args, {
      SOVRA_DATA_DIR: server.dataDir,
      SOVRA_ADMIN_URL: server.sovra.adminEndpoint,
      ...env,
    })
}
