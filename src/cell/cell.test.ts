import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../test/support/tmp.js'
import { createLogger } from '../core/index.js'
import { createCell } from './cell.js'

const dirs: Array<{ remove(): void }> = []
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove()
})

function open(id: string, dataDir: string, storagePath: string | null) {
  return createCell(
    { id, city: 'Zurich', jurisdiction: 'CH', storagePath },
    {
      dataDir,
      logger: createLogger('silent'),
      ledger: { origin: `test/ledger/${id}`, batchMaxDelayMs: 5, maxPending: 1000 },
    },
  )
}

describe('a cell folder', () => {
  it('is claimed by its data center, and refused to another (two data centers never share files)', async () => {
    const data = tempDir()
    const volume = tempDir()
    dirs.push(data, volume)
    const folder = join(volume.path, 'zurich')
    const cell = await open('eu-zurich-1', data.path, folder)
    await cell.close()
    expect(readFileSync(join(folder, 'DATA_CENTER'), 'utf8')).toBe('eu-zurich-1\n')

    await expect(open('eu-geneva-1', data.path, folder)).rejects.toThrow(
      `Cannot open data center "eu-geneva-1": its folder "${folder}" belongs to data center "eu-zurich-1"`,
    )
    const again = await open('eu-zurich-1', data.path, folder)
    await again.close()
  })

  it('defaults to <dataDir>/dcs/<id>', async () => {
    const data = tempDir()
    dirs.push(data)
    const cell = await open('eu-zurich-1', data.path, null)
    await cell.close()
    expect(readFileSync(join(data.path, 'dcs', 'eu-zurich-1', 'DATA_CENTER'), 'utf8')).toBe(
      'eu-zurich-1\n',
    )
  })
})
