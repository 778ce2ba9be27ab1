import { describe, expect, it } from 'vitest'
import { placementOf } from './placement.js'

describe('placementOf()', () => {
  it('serves a bucket at its home data center', () => {
    expect(placementOf('us-west-1', 'us-west-1')).toEqual({ kind: 'serve' })
  })

  it('answers a directory-only question (bucket location) at any data center', () => {
    expect(placementOf('ap-southeast-1', 'us-west-1', { directoryOnly: true })).toEqual({
      kind: 'serve',
    })
  })

  it('redirects a bucket of another data center to its home', () => {
    expect(placementOf('ap-southeast-1', 'us-west-1')).toEqual({
      kind: 'redirect',
      dcId: 'ap-southeast-1',
    })
  })
})
