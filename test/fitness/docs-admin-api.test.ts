// STYLE.md habit 14 for the admin face: every code it can send is in docs/errors.md with its
// status, and every route it declares is in docs/admin-api.md.
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { adminApi, allAdminErrorCodes } from '../../src/admin-api/index.js'
import { createLogger } from '../../src/core/index.js'
import { UNUSED_ROUTE_DEPS } from '../support/admin-route-deps.js'
import { codesIn, readDoc, sections, tableRows } from './sources.js'

const section = sections(readDoc('errors.md')).find((s) => s.heading.includes('(`admin`)'))

describe('docs/errors.md § Admin API', () => {
  it('lists every code the admin face can send, by domain, with its status', () => {
    expect(section, 'docs/errors.md has no "Admin API (`admin`)" section').toBeDefined()
    const documented = new Map<string, string>()
    for (const row of tableRows(section?.body ?? '')) {
      const [code] = codesIn(row[0] ?? '')
      const [domain] = codesIn(row[1] ?? '')
      if (code !== undefined && domain !== undefined)
        documented.set(`${domain}/${code}`, row[2] ?? '')
    }
    const problems: string[] = []
    for (const { domain, code, status } of allAdminErrorCodes()) {
      const shown = documented.get(`${domain}/${code}`)
      if (shown === undefined) problems.push(`${domain}/${code} is missing`)
      else if (shown.trim() !== String(status))
        problems.push(`${domain}/${code}: docs say ${shown}, it is ${status}`)
      documented.delete(`${domain}/${code}`)
    }
    expect(problems).toEqual([])
    expect([...documented.keys()], 'documented codes the admin face does not have').toEqual([])
  })
})

describe('docs/admin-api.md', () => {
  it('names every declared route', () => {
    const doc = readDoc('admin-api.md')
    const { routes } = adminApi({
      registry: new Registry(),
      ledgers: new Map(),
      logger: createLogger('silent'),
      version: '0',
      auth: {} as never,
      ...UNUSED_ROUTE_DEPS,
    })
    const missing = routes
      .map((r) => `${r.method} ${r.path}`)
      .filter((route) => !doc.includes(`\`${route}\``))
    expect(missing).toEqual([])
  })
})
