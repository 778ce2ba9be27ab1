import { createHash } from 'node:crypto'

/**
 * How `sovra bucket export` names an object's file: one flat folder (`objects/`), one file per
 * key, the name the key's UTF-8 bytes with every byte but `A–Z a–z 0–9 - _ .` percent-encoded
 * (`/` becomes `%2F`, so `a` and `a/b` are two files, never a file and a folder) and a leading
 * `.` encoded too (so no name is `.`, `..` or hidden). Names over `MAX_NAME_BYTES` are
 * `~` + SHA-256 hex of the key instead; `~` never starts an encoded name. The mapping is
 * injective (percent-decoding gives the key back), names never hold `/`, NUL or `..` as a
 * segment, and the manifest records each key's file anyway.
 *
 * Not handled: case-insensitive file systems (`A` and `a` would be one file there).
 */

/** Longest encoded name used as is; file systems allow 255 bytes. */
export const MAX_NAME_BYTES = 200

const KEEP = /^[A-Za-z0-9_.-]$/

/** The file name (inside `objects/`) of an object key. */
export function localNameOf(key: string): string {
  let out = ''
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte)
    out +=
      byte < 0x80 && KEEP.test(c) && !(out === '' && c === '.')
        ? c
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  if (out.length > MAX_NAME_BYTES)
    return `~${createHash('sha256').update(key, 'utf8').digest('hex')}`
  return out
}

/** True when `name` is a name `localNameOf` can produce (checked before opening a manifest's file). */
export function isLocalName(name: string): boolean {
  return (
    /^~[0-9a-f]{64}$/.test(name) ||
    (name.length > 0 &&
      name.length <= MAX_NAME_BYTES &&
      /^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})(?:[A-Za-z0-9_.-]|%[0-9A-F]{2})*$/.test(name))
  )
}
