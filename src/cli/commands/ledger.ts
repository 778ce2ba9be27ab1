import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { type Command, InvalidArgumentError } from 'commander'
import {
  commit,
  decodeEvent,
  LEDGER_EVENT_TYPES,
  type LedgerEvent,
  TILE_WIDTH,
} from '../../ledger/index.js'
import type { CliIo } from '../cli-io.js'
import {
  bundleCount,
  checkCheckpoint,
  checkConsistency,
  originOfKey,
  proveConsistency,
  proveInclusion,
  readBundle,
  rebuildTree,
  type VerifiedCheckpoint,
} from '../ledger/log-check.js'
import { loadSeen, saveSeen } from '../ledger/monitor-state.js'
import { fetchLedgerKey, httpTlogReader, type TlogReader } from '../ledger/tlog-client.js'
import { renderJson, renderTable } from '../output/index.js'

/** Where `sovra serve` listens for admin and public ledger requests by default. */
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9000'

interface LogOptions {
  dc: string
  url: string
  key?: string
  json?: boolean
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

function nonNegativeInt(value: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('not a non-negative integer')
  }
  return Number(value)
}

/** A usage error: printed as `sovra: <message>`, exit code 2. */
function usage(command: Command, message: string): never {
  command.error(message, { exitCode: 2, code: 'sovra.usage' })
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** Adds `--dc`, `--url`, `--key` and `--json` to a ledger command. */
function logOptions(command: Command): Command {
  return command
    .requiredOption('--dc <id>', 'data center whose log to read, e.g. us-west-1')
    .option('--url <endpoint>', 'admin endpoint serving /ledger/<dc>/…', DEFAULT_ADMIN_URL)
    .option(
      '--key <vkey>',
      "the log's verifier key (name+keyid+base64, or a file holding it); fetched from the server when absent (weaker)",
    )
    .option('--json', 'print JSON')
}

/** The verifier key: given (inline or as a file), or fetched from the server with a warning. */
async function resolveKey(io: CliIo, options: LogOptions): Promise<string> {
  const fetchFn = io.fetch ?? fetch
  if (options.key !== undefined) {
    const key = options.key.includes('+') ? options.key : readFileSync(options.key, 'utf8')
    return key.trim()
  }
  const published = await fetchLedgerKey({ url: options.url, dc: options.dc, fetch: fetchFn })
  io.stderr.write(
    `sovra: warning: trusting the verifier key the server serves (${published.verifierKey}). ` +
      'That only shows the log agrees with itself; pass --key with a key obtained another way to check it is the log you expect.\n',
  )
  return published.verifierKey
}

async function openVerified(
  io: CliIo,
  options: LogOptions,
  witnesses: { witnesses?: string[]; quorum?: number } = {},
): Promise<{ reader: TlogReader; verified: VerifiedCheckpoint; key: string }> {
  const key = await resolveKey(io, options)
  originOfKey(key) // a malformed key is a usage error, before any fetch
  const reader = httpTlogReader({ url: options.url, dc: options.dc, fetch: io.fetch ?? fetch })
  const verified = checkCheckpoint(await reader.checkpoint(), { verifierKey: key, ...witnesses })
  return { reader, verified, key }
}

/** `sovra ledger …`: verify a data center's public log, build proofs, find a tenant's events. */
export function registerLedger(program: Command, io: CliIo): void {
  const ledger = program
    .command('ledger')
    .description(
      "check a data center's transparency log from its public endpoints (exit 3: the log failed a check)",
    )

  logOptions(
    ledger
      .command('verify')
      .description(
        'check the checkpoint signature, witness cosignatures, consistency with the last checkpoint seen, and rebuild the whole tree from tiles and entries',
      ),
  )
    .option('--state <dir>', 'monitor state folder (last checkpoint seen per log)')
    .option('--witness <vkey>', 'witness cosignature key (repeatable)', collect, [])
    .option(
      '--quorum <k>',
      'cosignatures required of the --witness keys (default: all)',
      nonNegativeInt,
    )
    .action(
      async (
        options: LogOptions & { state?: string; witness: string[]; quorum?: number },
        command: Command,
      ) => {
        if (options.quorum !== undefined && options.quorum > options.witness.length) {
          usage(
            command,
            `--quorum ${options.quorum} needs at least that many --witness keys (got ${options.witness.length})`,
          )
        }
        const stateDir = options.state ?? join(homedir(), '.sovra', 'monitor')
        const { reader, verified } = await openVerified(io, options, {
          witnesses: options.witness,
          ...(options.quorum === undefined ? {} : { quorum: options.quorum }),
        })
        const { checkpoint } = verified
        const saved = await loadSeen(stateDir, checkpoint.origin)
        if (saved !== undefined) {
          await checkConsistency({
            saved: saved.checkpoint,
            current: checkpoint,
            getTiles: reader.getTiles,
          })
        }
        const rebuilt = await rebuildTree({ reader, size: verified.size, root: checkpoint.root })
        await saveSeen(stateDir, checkpoint.origin, verified.note)
        const previous = saved === undefined ? null : Number(saved.checkpoint.size)
        if (options.json === true) {
          io.stdout.write(
            renderJson({
              ok: true,
              dc: options.dc,
              origin: checkpoint.origin,
              size: verified.size,
              root: b64(checkpoint.root),
              previousSize: previous,
              cosigners: verified.cosigners,
              ...rebuilt,
            }),
          )
          return
        }
        const history =
          previous === null
            ? 'first check of this log, checkpoint recorded'
            : `consistent with size ${previous} seen before`
        const witnessed =
          options.witness.length > 0
            ? `, cosigned by ${verified.cosigners.length}/${options.witness.length} witnesses`
            : ''
        io.stdout.write(
          `OK ${checkpoint.origin} size ${verified.size} root ${b64(checkpoint.root)}: signature valid${witnessed}, ${history}, tree rebuilt from ${rebuilt.entries} entries (${rebuilt.bundles} bundles, ${rebuilt.tiles} tiles)\n`,
        )
      },
    )

  logOptions(
    ledger
      .command('proof')
      .description(
        'build an inclusion (--index) or consistency (--consistency A..B) proof from the public tiles and verify it against the current checkpoint',
      ),
  )
    .option('--index <n>', 'leaf index to prove', nonNegativeInt)
    .option('--size <s>', 'tree size to prove it in (default: the checkpoint size)', nonNegativeInt)
    .option(
      '--consistency <A..B>',
      'prove the tree of size B extends the one of size A (B defaults to the checkpoint size)',
    )
    .action(
      async (
        options: LogOptions & { index?: number; size?: number; consistency?: string },
        command: Command,
      ) => {
        if ((options.index === undefined) === (options.consistency === undefined)) {
          usage(command, 'give exactly one of --index and --consistency')
        }
        const { reader, verified } = await openVerified(io, options)
        const cp = verified.checkpoint
        const head = `checkpoint: ${cp.origin} size ${verified.size} root ${b64(cp.root)} (signature valid)\n`
        if (options.index !== undefined) {
          const r = await proveInclusion({
            reader,
            checkpoint: verified,
            index: options.index,
            ...(options.size === undefined ? {} : { size: options.size }),
          })
          if (options.json === true) {
            io.stdout.write(
              renderJson({
                kind: 'inclusion',
                origin: cp.origin,
                checkpointSize: verified.size,
                index: r.index,
                size: r.size,
                root: b64(r.root),
                leafHash: b64(r.leafHash),
                entry: new TextDecoder().decode(r.entry),
                proof: r.proof.map(b64),
                verified: true,
              }),
            )
            return
          }
          io.stdout.write(
            `${head}inclusion proof of leaf ${r.index} in the tree of size ${r.size} (root ${b64(r.root)})\n` +
              `entry: ${new TextDecoder().decode(r.entry)}\n` +
              `leaf hash: ${b64(r.leafHash)}\n` +
              `proof (${r.proof.length} hashes):\n${r.proof.map((h) => `  ${b64(h)}\n`).join('')}` +
              `verified: leaf ${r.index} is in the tree of size ${r.size}${r.size === verified.size ? '' : `, which is consistent with the checkpoint of size ${verified.size}`}\n`,
          )
          return
        }
        const m = /^(0|[1-9][0-9]*)\.\.(0|[1-9][0-9]*)?$/.exec(options.consistency as string)
        if (m === null) usage(command, '--consistency takes A..B (or A.. for the checkpoint size)')
        const size1 = Number(m[1])
        const size2 = m[2] === undefined ? verified.size : Number(m[2])
        const r = await proveConsistency({ reader, checkpoint: verified, size1, size2 })
        if (options.json === true) {
          io.stdout.write(
            renderJson({
              kind: 'consistency',
              origin: cp.origin,
              checkpointSize: verified.size,
              size1,
              size2,
              root1: b64(r.root1),
              root2: b64(r.root2),
              proof: r.proof.map(b64),
              verified: true,
            }),
          )
          return
        }
        io.stdout.write(
          `${head}consistency proof from size ${size1} (root ${b64(r.root1)}) to size ${size2} (root ${b64(r.root2)})\n` +
            `proof (${r.proof.length} hashes):\n${r.proof.map((h) => `  ${b64(h)}\n`).join('')}` +
            `verified: the tree of size ${size2} extends the tree of size ${size1}\n`,
        )
      },
    )

  logOptions(
    ledger
      .command('events')
      .description(
        "a tenant's own events in a data center's log, recognised by their commitments (HMAC with the tenant's ledger secret)",
      ),
  )
    .requiredOption('--tenant <id>', 'tenant id (the value the tenant commitment is made of)')
    .requiredOption('--tenant-secret <base64>', "the tenant's ledger secret, base64")
    .option('--bucket <name>', 'only events of this bucket')
    .option('--type <type>', `only events of this type (${LEDGER_EVENT_TYPES.join(', ')})`)
    .option('--verify', 'check each event is included in the tree of the signed checkpoint')
    .action(
      async (
        options: LogOptions & {
          tenant: string
          tenantSecret: string
          bucket?: string
          type?: string
          verify?: boolean
        },
        command: Command,
      ) => {
        if (
          options.type !== undefined &&
          !(LEDGER_EVENT_TYPES as readonly string[]).includes(options.type)
        ) {
          usage(
            command,
            `--type ${options.type} is not an event type (${LEDGER_EVENT_TYPES.join(', ')})`,
          )
        }
        const secret = Buffer.from(options.tenantSecret, 'base64')
        if (secret.byteLength < 16 || secret.toString('base64') !== options.tenantSecret.trim()) {
          usage(command, '--tenant-secret must be the base64 of at least 16 bytes')
        }
        const tenant = commit(secret, options.tenant)
        const bucket = options.bucket === undefined ? undefined : commit(secret, options.bucket)
        const { reader, verified } = await openVerified(io, options)
        const found: Array<{
          index: number
          entry: Uint8Array
          event: LedgerEvent
          proof?: Uint8Array[]
        }> = []
        let undecodable = 0
        for (let b = 0; b < bundleCount(verified.size); b++) {
          const entries = await readBundle(reader, b, verified.size)
          entries.forEach((entry, j) => {
            let event: LedgerEvent
            try {
              event = decodeEvent(entry)
            } catch {
              undecodable++
              return
            }
            if (!('tenant' in event) || event.tenant !== tenant) return
            if (bucket !== undefined && (!('bucket' in event) || event.bucket !== bucket)) return
            if (options.type !== undefined && event.type !== options.type) return
            found.push({ index: b * TILE_WIDTH + j, entry, event })
          })
        }
        if (options.verify === true) {
          for (const f of found) {
            const r = await proveInclusion({
              reader,
              checkpoint: verified,
              index: f.index,
              entry: f.entry,
            })
            f.proof = r.proof
          }
        }
        if (undecodable > 0) {
          io.stderr.write(
            `sovra: warning: ${undecodable} entries are not events this version reads\n`,
          )
        }
        if (options.json === true) {
          io.stdout.write(
            renderJson({
              origin: verified.checkpoint.origin,
              checkpointSize: verified.size,
              root: b64(verified.checkpoint.root),
              events: found.map((f) => ({
                index: f.index,
                event: f.event,
                ...(f.proof === undefined ? {} : { verified: true, proof: f.proof.map(b64) }),
              })),
            }),
          )
          return
        }
        const short = (c: string) => `${c.slice(0, 12)}…`
        io.stdout.write(
          renderTable(
            [
              { header: 'INDEX', value: (f: (typeof found)[number]) => String(f.index) },
              { header: 'TIME', value: (f) => f.event.at },
              { header: 'TYPE', value: (f) => f.event.type },
              {
                header: 'BUCKET',
                value: (f) =>
                  !('bucket' in f.event)
                    ? '-'
                    : options.bucket !== undefined
                      ? options.bucket
                      : short(f.event.bucket),
              },
              { header: 'DETAIL', value: (f) => detailOf(f.event) },
              ...(options.verify === true ? [{ header: 'INCLUDED', value: () => 'verified' }] : []),
            ],
            found,
          ),
        )
        io.stdout.write(
          `${found.length} event(s) of tenant ${options.tenant} in ${verified.checkpoint.origin} (checkpoint size ${verified.size})${options.verify === true ? ', each verified against the signed checkpoint' : ''}\n`,
        )
      },
    )
}

/** The clear-text facts of an event worth a column (sizes, counts); commitments stay hidden. */
function detailOf(event: LedgerEvent): string {
  switch (event.type) {
    case 'object.put':
    case 'object.copy':
      return `size=${event.size}${event.versionId === undefined ? '' : ` version=${event.versionId}`}`
    case 'multipart.complete':
      return `size=${event.size} parts=${event.parts}`
    case 'object.get':
      return `bytes=${event.bytes}`
    case 'object.list':
      return `count=${event.count}`
    case 'bucket.attested':
      return `objects=${event.objects} bytes=${event.bytes}`
    case 'object.integrity-failure':
      return `failure=${event.failure}${event.part === undefined ? '' : ` part=${event.part}`}${event.segment === undefined ? '' : ` segment=${event.segment}`}`
    case 'object.key-refused':
      return `refusal=${event.refusal} operation=${event.operation}`
    case 'object.delete':
      return `${event.versionId === undefined ? '' : `version=${event.versionId}`}${event.deleteMarker === true ? ' marker' : ''}`.trim()
    case 'tenant.change':
    case 'key.change':
      return `change=${event.change}`
    case 'key.rotated':
      return event.keyVersion === undefined ? '' : `version=${event.keyVersion}`
    case 'key.rewrap-finish':
      return `status=${event.status} rewrapped=${event.rewrapped} skipped=${event.skipped} failed=${event.failed}`
    default:
      return ''
  }
}
