import { describe, expect, it } from 'vitest'
import { isVersionId, newVersionId } from './version-id.js'

describe('version ids', () => {
  it('are 30 URL-safe characters, unique, and sort by creation within a process', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => newVersionId(1_700_000_000_000 + i))
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-v]{30}$/)
      expect(encodeURIComponent(id)).toBe(id)
      expect(isVersionId(id)).toBe(true)
    }
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
  })

  it('accepts `null` and refuses anything else', () => {
    expect(isVersionId('null')).toBe(true)
    for (const bad of ['', 'NULL', 'x'.repeat(30), `${'0'.repeat(29)}w`, '0'.repeat(31), '../a']) {
      expect(isVersionId(bad)).toBe(false)
    }
  })
})
