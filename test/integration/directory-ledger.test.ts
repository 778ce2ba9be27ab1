// The directory's own transparency log: catalog, tenant and key changes, whether made by the
// server or by the CLI in another process, appear in `/ledger/directory/...` on the admin port
// and verify like a data center's log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDirectory } from '../../src/directory/index.js'
import { commit, type LedgerEvent } from '../../src/ledger/index.js'
import { runSovraCli } from '../support/cli.js'
import { publicEvents } from '../support/public-log.js'
import { startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

let server: TestSovra
const work = tempDir('sovra-directory-ledger-')

beforeAll(async () => {
  server = await startSovra()
})
afterAll(async () => {
  await server?.stop()
  work.remove()
})

const cli = (args: string[]) => runSovraCli(args, { SOVRA_DATA_DIR: server.dataDir })

const directoryEvents = () => publicEvents(server.sovra.adminEndpoint, 'directory')

describe('the directory ledger', () => {
  it('publishes its verifier key beside the data centers', async () => {
    const res = await fetch(`${server.sovra.adminEndpoint}/admin/v1/ledger/keys`)
    const { ledgers } = (await res.json()) as { ledgers: { dc: string; origin: string }[] }
    expect(ledgers.find((l) => l.dc === 'directory')?.origin).toBe('127.0.0.1/ledger/directory')
  })

  it('records the catalog and the first start (root tenant and its key)', async () => {
    await expect
      .poll(async () => (await directoryEvents()).map((e) => e.type).join(','), {
        timeout: 10_000,
      })
      .toBe(`${Array(7).fill('dc.change').join(',')},tenant.change,key.change`)
  })

  it('records what the CLI changes while the server runs, and `ledger verify` accepts it', async () => {
    expect((await cli(['tenant', 'create', 'acme'])).code).toBe(0)
    const created = await cli(['key', 'create', '--tenant', 'acme', '--json'])
    expect(created.code).toBe(0)
    const { accessKeyId } = JSON.parse(created.stdout) as { accessKeyId: string }
    expect((await cli(['key', 'revoke', accessKeyId])).code).toBe(0)

    const directory = await openDirectory({ dataDir: server.dataDir })
    const tenant = await directory.getTenant('acme')
    const secret = await directory.ledgerSecretOf(tenant?.id as string)
    await directory.close()
    const mine = (e: LedgerEvent) =>
      'tenant' in e && e.tenant === commit(secret, tenant?.id as string)
    await expect
      .poll(
        async () =>
          (await directoryEvents())
            .filter(mine)
            .map((e) => `${e.type}:${(e as { change: string }).change}`),
        {
          timeout: 10_000,
        },
      )
      .toEqual(['tenant.change:created', 'key.change:created', 'key.change:revoked'])

    const keys = (await (
      await fetch(`${server.sovra.adminEndpoint}/admin/v1/ledger/keys`)
    ).json()) as { ledgers: { dc: string; verifierKey: string }[] }
    const vkey = keys.ledgers.find((l) => l.dc === 'directory')?.verifierKey as string
    const verified = await cli([
      'ledger',
      'verify',
      '--dc',
      'directory',
      '--url',
      server.sovra.adminEndpoint,
      '--key',
      vkey,
      '--state',
      work.path,
    ])
    expect(verified.stderr).toBe('')
    expect(verified.code).toBe(0)
  })
})
