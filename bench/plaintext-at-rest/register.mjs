// Bench only: the plaintext baseline of `npm run bench:keys` (issue 6), "encryption off" for the
// same built server. bench/s3-bench.ts starts its `sovra-plaintext` server as
//
//   node --import ./bench/plaintext-at-rest/register.mjs dist/cli/bin.js serve
//
// and this module hook swaps the cell's storage seam (dist/cell/object-crypto.js) for
// ./object-crypto.mjs, which stores and serves the bytes as they came. Everything else (HTTP,
// SigV4, MD5 and checksums, the metadata row, the ledger event, the blob file's fsyncs) is the
// product's code. Sovra itself has no switch for this: no configuration key, CLI flag or SOVRA_*
// variable reaches it, dist/ holds none of it, and test/fitness/encryption-at-rest.test.ts keeps
// it so.
import { register } from 'node:module'
import { isMainThread } from 'node:worker_threads'

const REPLACEMENT = new URL('./object-crypto.mjs', import.meta.url).href

/** Module hook (runs on the loader thread): object-crypto.js resolves to the replacement. */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context)
  const fromReplacement = context.parentURL?.startsWith(REPLACEMENT) === true
  if (!fromReplacement && resolved.url.endsWith('/cell/object-crypto.js')) {
    return {
      ...resolved,
      url: `${REPLACEMENT}?real=${encodeURIComponent(resolved.url)}`,
      shortCircuit: true,
    }
  }
  return resolved
}

if (isMainThread) register(import.meta.url)
