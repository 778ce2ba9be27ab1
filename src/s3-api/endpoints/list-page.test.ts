import { describe, expect, it } from 'vitest'
import type { ObjectSummary } from '../../meta/index.js'
import { renderXml } from '../xml/render.js'
import { contentsXml, objectEntry } from './list-page.js'

// A listing's Contents are written by one template per object (contentsXml) for speed; they
// must be byte for byte what the generic renderer makes of objectEntry, which the other
// listings (ListObjectVersions) still use.
const objects: ObjectSummary[] = [
  {
    key: 'plain/key.txt',
    size: 0,
    etag: 'd41d8cd98f00b204e9800998ecf8427e',
    lastModified: 0,
    checksumAlgorithms: [],
  },
  {
    key: `a&b<c>"d"'e'/ünï 😀`,
    size: 5 * 1024 ** 3,
    etag: '9b2cf535f27731c974343645a3985328-3',
    lastModified: 1_764_300_000_123,
    checksumAlgorithms: ['CRC32', 'SHA256'],
  },
  { key: 'x', size: 1, etag: 'e&"', lastModified: 86_400_000, checksumAlgorithms: ['CRC64NVME'] },
]

describe('contentsXml', () => {
  it.each([
    {
      name: 'no owner, raw keys',
      owner: undefined,
      enc: (s: string) => s,
      key: '<Key>a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;/ünï 😀</Key>',
    },
    {
      name: 'owner, url-encoded keys',
      owner: { ID: 'id<&>"', DisplayName: "o'wner" },
      enc: encodeURIComponent,
      key: '<Key>a%26b%3Cc%3E%22d%22&apos;e&apos;%2F%C3%BCn%C3%AF%20%F0%9F%98%80</Key>',
    },
  ])('renders what the generic renderer renders ($name)', ({ owner, enc, key }) => {
    const generic = renderXml('ListBucketResult', {
      Name: 'b',
      Contents: objects.map((o) => objectEntry(o, enc, owner)),
      KeyCount: 3,
    })
    const fast = renderXml('ListBucketResult', {
      Name: 'b',
      Contents: contentsXml(objects, enc, owner),
      KeyCount: 3,
    })
    expect(fast).toBe(generic)
    expect(fast).toContain(key)
  })

  it('renders nothing for an empty page', () => {
    expect(renderXml('R', { Contents: contentsXml([], (s) => s, undefined) }, false)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<R></R>',
    )
  })
})
