import type { Command } from 'commander'
import { type AdminClientOptions, adminOptions, createAdminClient } from '../admin-client.js'
import { createContext } from '../cli-context.js'
import type { CliIo } from '../cli-io.js'
import { renderJson } from '../output/index.js'

/** A bucket key rotation as the admin API answers it (`#/components/schemas/KeyRotation`). */
interface KeyRotation {
  readonly bucket: string
  readonly state: 'running' | 'done' | 'failed'
  readonly provider: string
  readonly keyVersion: number | null
  readonly rewrapped: number
  readonly current: number
  readonly skipped: number
  readonly failed: number
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly error: string | null
}

/** How often `--wait` asks for the status. */
const POLL_MS = 500

const pathOf = (bucket: string) => `/admin/v1/buckets/${encodeURIComponent(bucket)}/key-rotation`

function describe(r: KeyRotation): string {
  const version = r.keyVersion === null ? '' : `, key version ${r.keyVersion}`
  const counts = `${r.rewrapped} re-wrapped, ${r.current} already current, ${r.skipped} skipped (SSE-C or another provider), ${r.failed} failed`
  const end = r.finishedAt === null ? `started ${r.startedAt}` : `finished ${r.finishedAt}`
  const error = r.error === null ? '' : `\n  last error: ${r.error}`
  return `Key rotation of bucket ${r.bucket} (${r.provider}${version}): ${r.state}; ${counts}; ${end}${error}\n`
}

/**
 * `sovra bucket rotate-key <bucket> [--wait]` and `sovra bucket key-rotation <bucket>`: start a
 * rotation of the bucket's key and read its status, signed with the tenant's S3 key.
 */
export function registerBucketKeyRotation(bucket: Command, io: CliIo): void {
  adminOptions(
    bucket
      .command('rotate-key')
      .description(
        "rotate the bucket's key: new objects use the new key version at once, existing data keys are re-wrapped in the background (object bytes are not re-encrypted)",
      )
      .argument('<bucket>', 'bucket name')
      .option('--wait', 'follow the re-wrap until it ends; exit 1 if it failed')
      .option('--json', 'print JSON'),
  ).action(
    async (
      name: string,
      options: AdminClientOptions & { wait?: boolean; json?: boolean },
      command: Command,
    ) => {
      const ctx = createContext(io, command)
      const client = createAdminClient(io, { config: ctx.config, options })
      let status = await client.asTenant<KeyRotation>('POST', pathOf(name))
      if (options.wait === true) {
        if (options.json !== true) io.stdout.write(describe(status))
        while (status.state === 'running') {
          await new Promise((resolve) => setTimeout(resolve, POLL_MS))
          status = await client.asTenant<KeyRotation>('GET', pathOf(name))
        }
      }
      io.stdout.write(options.json === true ? renderJson(status) : describe(status))
      if (status.state === 'failed') {
        throw new Error(
          `The key rotation of bucket "${name}" failed: ${status.error ?? 'see the server log'}`,
        )
      }
    },
  )

  adminOptions(
    bucket
      .command('key-rotation')
      .description("show the bucket's current or last key rotation")
      .argument('<bucket>', 'bucket name')
      .option('--json', 'print JSON'),
  ).action(
    async (name: string, options: AdminClientOptions & { json?: boolean }, command: Command) => {
      const ctx = createContext(io, command)
      const client = createAdminClient(io, { config: ctx.config, options })
      const status = await client.asTenant<KeyRotation>('GET', pathOf(name))
      io.stdout.write(options.json === true ? renderJson(status) : describe(status))
    },
  )
}
