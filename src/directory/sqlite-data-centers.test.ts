import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DataCenterInput, Directory } from './directory.js'
import { DirectoryError } from './directory-error.js'
import { openDirectory } from './sqlite-directory.js'

const dirs: string[] = []
const open: Directory[] = []
afterEach(async () => {
  for (const d of open.splice(0)) await d.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function fresh(dataDir?: string): Promise<{ directory: Directory; dataDir: string }> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'sovra-dcs-'))
  if (dataDir === undefined) dirs.push(dir)
  const directory = await openDirectory({ dataDir: dir })
  open.push(directory)
  return { directory, dataDir: dir }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(DirectoryError)
    return (err as DirectoryError).code
  }
  throw new Error('Expected a DirectoryError')
}

const west: DataCenterInput = {
  id: 'us-west-1',
  name: 'US West',
  city: 'Silicon Valley',
  jurisdiction: 'US',
  status: 'active',
  port: 9002,
}
const zurich: DataCenterInput = {
  id: 'eu-zurich-1',
  name: 'Zurich',
  city: 'Zurich',
  jurisdiction: 'CH',
  status: 'active',
  port: 9010,
}

describe('Directory.seedDataCenters()', () => {
  it('adds missing data centers and keeps the directory for everything but the port', async () => {
    const { directory } = await fresh()
    expect(await directory.seedDataCenters([west])).toEqual({ added: ['us-west-1'], kept: [] })
    await directory.transitionDataCenter('us-west-1', 'draining')
    const report = await directory.seedDataCenters([
      { ...west, city: 'San Jose', port: 9102 },
      zurich,
    ])
    expect(report.added).toEqual(['eu-zurich-1'])
    expect(report.kept).toEqual([
      { id: 'us-west-1', field: 'city', config: 'San Jose', directory: 'Silicon Valley' },
      { id: 'us-west-1', field: 'status', config: 'active', directory: 'draining' },
    ])
    expect(await directory.getDataCenter('us-west-1')).toEqual({
      ...west,
      status: 'draining',
      port: 9102,
      storagePath: null,
      endpoint: null,
    })
    expect((await directory.listDataCenters()).map((dc) => dc.id)).toEqual([
      'us-west-1',
      'eu-zurich-1',
    ])
  })
})

describe('Directory.addDataCenter()', () => {
  it('adds a data center at the end of the catalog, persistently', async () => {
    const { directory, dataDir } = await fresh()
    await directory.seedDataCenters([west])
    const added = await directory.addDataCenter({ ...zurich, status: 'planned' })
    expect(added).toEqual({ ...zurich, status: 'planned', storagePath: null, endpoint: null })
    const { directory: again } = await fresh(dataDir)
    expect((await again.listDataCenters()).map((dc) => [dc.id, dc.status])).toEqual([
      ['us-west-1', 'active'],
      ['eu-zurich-1', 'planned'],
    ])
  })

  it.each([
    ['an invalid id', { id: 'Zurich!' }, 'InvalidArgument'],
    ['a path-like id', { id: '../us-west-1' }, 'InvalidArgument'],
    ['a duplicate id', { id: 'us-west-1', port: 9011 }, 'DataCenterAlreadyExists'],
    ['a port another data center uses', { port: 9002 }, 'PortInUse'],
    ['the admin port', { port: 9000 }, 'PortInUse'],
    ['an unknown jurisdiction', { jurisdiction: 'EU' }, 'UnknownJurisdiction'],
    ['a lower-case jurisdiction', { jurisdiction: 'ch' }, 'UnknownJurisdiction'],
    ['a draining status', { status: 'draining' as const }, 'InvalidArgument'],
    ['a port out of range', { port: 70000 }, 'InvalidArgument'],
  ])('refuses %s and changes nothing', async (_what, change, code) => {
    const { directory } = await fresh()
    await directory.seedDataCenters([west])
    const before = await directory.listDataCenters()
    expect(
      await codeOf(directory.addDataCenter({ ...zurich, ...change }, { reservedPorts: [9000] })),
    ).toBe(code)
    expect(await directory.listDataCenters()).toEqual(before)
  })

  it('lets port 0 (any free port) repeat, and reuses the port of a retired data center', async () => {
    const { directory } = await fresh()
    await directory.seedDataCenters([{ ...west, port: 0 }])
    await directory.addDataCenter({ ...zurich, port: 0 })
    await directory.transitionDataCenter('eu-zurich-1', 'draining')
    await directory.transitionDataCenter('eu-zurich-1', 'retired')
    await directory.addDataCenter({ ...zurich, id: 'eu-geneva-1', port: 9010 })
    await directory.addDataCenter({ ...zurich, id: 'eu-basel-1', port: 9011 })
    expect(await codeOf(directory.addDataCenter({ ...zurich, id: 'eu-bern-1' }))).toBe('PortInUse')
  })
})

describe('Directory.transitionDataCenter()', () => {
  it('walks planned → active → draining → retired and refuses every other step', async () => {
    const { directory } = await fresh()
    await directory.addDataCenter({ ...zurich, status: 'planned' })
    expect(await codeOf(directory.transitionDataCenter('eu-zurich-1', 'draining'))).toBe(
      'InvalidStatusTransition',
    )
    expect(await codeOf(directory.transitionDataCenter('eu-zurich-1', 'retired'))).toBe(
      'InvalidStatusTransition',
    )
    expect((await directory.transitionDataCenter('eu-zurich-1', 'active')).status).toBe('active')
    expect(await codeOf(directory.transitionDataCenter('eu-zurich-1', 'active'))).toBe(
      'InvalidStatusTransition',
    )
    expect((await directory.transitionDataCenter('eu-zurich-1', 'draining')).status).toBe(
      'draining',
    )
    expect((await directory.transitionDataCenter('eu-zurich-1', 'retired')).status).toBe('retired')
    expect(await codeOf(directory.transitionDataCenter('eu-zurich-1', 'active'))).toBe(
      'InvalidStatusTransition',
    )
    expect(await codeOf(directory.transitionDataCenter('xx-none-1', 'active'))).toBe(
      'NoSuchDataCenter',
    )
  })

  it('refuses to retire a data center that still holds a bucket, until it is released', async () => {
    const { directory } = await fresh()
    await directory.addDataCenter(zurich)
    const tenant = await directory.createTenant({ name: 'acme' })
    await directory.reserveBucket({ name: 'acme-data', tenantId: tenant.id, dcId: zurich.id })
    await directory.transitionDataCenter(zurich.id, 'draining')
    expect(await directory.countBuckets(zurich.id)).toBe(1)
    expect(await codeOf(directory.transitionDataCenter(zurich.id, 'retired'))).toBe(
      'DataCenterNotEmpty',
    )
    expect((await directory.getDataCenter(zurich.id))?.status).toBe('draining')
    await directory.releaseBucket('acme-data')
    expect((await directory.transitionDataCenter(zurich.id, 'retired')).status).toBe('retired')
  })
})

describe('Directory.removeDataCenter()', () => {
  it('undoes an add, but never while a bucket is placed there', async () => {
    const { directory } = await fresh()
    await directory.addDataCenter(zurich)
    await directory.removeDataCenter(zurich.id)
    expect(await directory.getDataCenter(zurich.id)).toBeNull()
    await directory.addDataCenter(zurich)
    const tenant = await directory.createTenant({ name: 'acme' })
    await directory.reserveBucket({ name: 'acme-data', tenantId: tenant.id, dcId: zurich.id })
    expect(await codeOf(directory.removeDataCenter(zurich.id))).toBe('DataCenterNotEmpty')
    expect(await codeOf(directory.removeDataCenter('xx-none-1'))).toBe('NoSuchDataCenter')
  })
})

describe('Directory operator token hash', () => {
  it('stores the first hash only, and refuses anything but 64 hex digits', async () => {
    const { directory } = await fresh()
    expect(await directory.operatorTokenHash()).toBeNull()
    const first = 'a'.repeat(64)
    expect(await directory.initOperatorTokenHash(first)).toBe(first)
    expect(await directory.initOperatorTokenHash('b'.repeat(64))).toBe(first)
    expect(await directory.operatorTokenHash()).toBe(first)
    expect(await codeOf(directory.initOperatorTokenHash('secret'))).toBe('InvalidArgument')
  })
})
