import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyd, type Keyd, type KeydDeps } from './keyd-server.js'

/** A keyd on 127.0.0.1:0 in a temp folder, with an admin token and tokens for two DCs. */
export interface TestKeyd {
  readonly keyd: Keyd
  readonly url: string
  readonly dir: string
  readonly auditLogPath: string
  readonly tokens: { readonly admin: string; readonly [dc: string]: string }
  /** Calls keyd as the admin: `POST|GET|DELETE /v1/transit/<path>`. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>
  close(): Promise<void>
}

/** Starts a keyd with key `name` created (derived) and DCs `dc-a`, `dc-b`, `us-west-1` allowed. */
export async function startTestKeyd(
  options: {
    readonly keyName?: string
    readonly allowedDcs?: readonly string[]
    readonly dir?: string
  } = {},
  deps: KeydDeps = {},
): Promise<TestKeyd> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'sovra-keyd-')))
  const tokens = {
    admin: 'admin-token-1',
    'dc-a': 'dc-a-token',
    'dc-b': 'dc-b-token',
    'us-west-1': 'usw1-token',
    'ap-south-1': 'aps1-token',
  }
  const auditLogPath = join(dir, 'audit.jsonl')
  const keyd = await createKeyd(
    {
      stateFile: join(dir, 'keys.json'),
      auditLogPath,
      tokens: [
        { token: tokens.admin, role: 'admin' },
        { token: tokens['dc-a'], role: 'dc', dc: 'dc-a' },
        { token: tokens['dc-b'], role: 'dc', dc: 'dc-b' },
        { token: tokens['us-west-1'], role: 'dc', dc: 'us-west-1' },
        { token: tokens['ap-south-1'], role: 'dc', dc: 'ap-south-1' },
      ],
      allowedDcs: options.allowedDcs ?? ['dc-a', 'dc-b', 'us-west-1'],
    },
    deps,
  )
  const url = await keyd.listen()
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/v1/transit/${path}`, {
      method,
      headers: { 'x-vault-token': tokens.admin, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) }
  }
  const keyName = options.keyName ?? 'sovra'
  const created = await admin('POST', `keys/${keyName}`, { type: 'aes256-gcm96', derived: true })
  if (created.status !== 204) throw new Error(`Cannot create test key: ${JSON.stringify(created)}`)
  return {
    keyd,
    url,
    dir,
    auditLogPath,
    tokens,
    admin,
    close: async () => {
      await keyd.close()
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true })
    },
  }
}
