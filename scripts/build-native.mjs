// Builds the AES-GCM addon (native/aead/aead.c) into build/native/aead.node, with the C compiler
// (`cc`, or $CC) and the headers that ship with Node (node_api.h and Node's own OpenSSL headers,
// in <prefix>/include/node). The addon links against nothing: its OpenSSL symbols resolve
// against the running node binary, so it always uses the OpenSSL Node itself uses.
//
// Sovra runs without it (Node's crypto does the same work, slower; see
// src/keys/envelope/native-gcm.ts): when there is no compiler or no headers, this says so and
// exits 0. A compiler that fails on the source is an error. Up to date output is left alone.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const source = join(root, 'native/aead/aead.c')
const target = join(root, 'build/native/aead.node')

function includeDir() {
  const candidates = [
    resolve(dirname(process.execPath), '../include/node'),
    join(String(process.config.variables?.node_prefix ?? '/usr'), 'include/node'),
  ]
  return candidates.find(
    (dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'openssl/evp.h')),
  )
}

function skip(reason) {
  console.warn(`native AES-GCM not built (${reason}); Node's crypto will be used instead`)
  process.exit(0)
}

if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) process.exit(0)
const include = includeDir()
if (include === undefined) skip('no node_api.h and openssl/evp.h under <node prefix>/include/node')
const cc = process.env.CC || 'cc'
mkdirSync(dirname(target), { recursive: true })
const partial = `${target}.${process.pid}.tmp`
const result = spawnSync(
  cc,
  ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-I', include, '-o', partial, source],
  { stdio: 'inherit' },
)
if (result.error?.code === 'ENOENT') skip(`no C compiler "${cc}"`)
if (result.status !== 0) {
  console.error(`native AES-GCM: "${cc}" failed on ${source}`)
  process.exit(1)
}
renameSync(partial, target)
