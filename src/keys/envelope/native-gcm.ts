import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/**
 * AES-256-GCM over memory the caller owns: the addon built from `native/aead/aead.c` by
 * `scripts/build-native.mjs` (part of `npm run build`). It runs the OpenSSL inside the node
 * binary, as `node:crypto` does, but writes into buffers it is given (in place, or one output
 * buffer per segment) instead of allocating a new one per `update()`, which on this project's
 * machine costs about as much as the cipher (docs/benchmarks.md, "Native AES-GCM"). Where the
 * addon was not built (no C compiler), `nativeGcm()` is null and the envelope uses `node:crypto`:
 * same bytes, same checks, more CPU per MiB.
 */
export interface NativeGcm {
  /**
   * One segment. `seal`: encrypts `pieces` (in order) and writes the tag into `tag`; otherwise
   * decrypts them and checks `tag`. Output goes over the pieces themselves when `out` is null,
   * else into `out` from offset 0 (at least as long as the pieces together). Returns false when
   * the tag does not verify; then every byte the call wrote is zeroed. At most 64 pieces.
   */
  gcm(
    seal: boolean,
    key: Uint8Array,
    iv: Uint8Array,
    aad: Uint8Array,
    pieces: readonly Uint8Array[],
    out: Uint8Array | null,
    tag: Uint8Array,
  ): boolean
}

/** Pieces one `gcm` call takes at most (the addon's limit). */
export const NATIVE_GCM_MAX_PIECES = 64

/** Where the build puts the addon; the same path from src/ (tests) and from dist/. */
const ADDON = fileURLToPath(new URL('../../../build/native/aead.node', import.meta.url))

function load(): NativeGcm | null {
  if (!existsSync(ADDON)) return null
  try {
    return createRequire(import.meta.url)(ADDON) as NativeGcm
  } catch (err) {
    throw new Error(`The AES-GCM addon "${ADDON}" does not load: rebuild it with "npm run build"`, {
      cause: err,
    })
  }
}

const loaded = load()
let enabled = true

/** The addon, or null when it was not built (or `useNativeGcm(false)` turned it off). */
export function nativeGcm(): NativeGcm | null {
  return enabled ? loaded : null
}

/** Whether the addon was built and loads in this process, whether or not it is in use. */
export function nativeGcmBuilt(): boolean {
  return loaded !== null
}

/**
 * Turns the addon off (or on again) for this thread: tests and benchmarks run the envelope on
 * both paths with it. Envelope workers keep their own setting (on when built).
 */
export function useNativeGcm(on: boolean): void {
  enabled = on
}
