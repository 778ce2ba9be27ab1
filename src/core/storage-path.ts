import { isAbsolute, normalize, relative, sep } from 'node:path'

/** What a data center's storage path must look like, for error messages. */
export const STORAGE_PATH_RULE =
  'expected an absolute, normalized folder path such as "/srv/sovra/eu-zurich-1" (no "..", no trailing "/")'

/** Longest storage path accepted. */
export const STORAGE_PATH_MAX_LENGTH = 1024

/** True for an absolute path in normal form that is not the root folder. */
export function isStoragePath(path: string): boolean {
  return (
    path.length > 1 &&
    path.length <= STORAGE_PATH_MAX_LENGTH &&
    !path.includes('\0') &&
    isAbsolute(path) &&
    normalize(path) === path &&
    !path.endsWith(sep)
  )
}

/** True when one folder is the other or lies inside it (so their files could mix). */
export function pathsOverlap(a: string, b: string): boolean {
  const inside = (child: string, parent: string) => {
    const rel = relative(parent, child)
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
  }
  return inside(a, b) || inside(b, a)
}
