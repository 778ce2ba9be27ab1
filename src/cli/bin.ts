#!/usr/bin/env -S node --initial-old-space-size=64
// The flag above (also in package.json's `start` script, and read from this line by the
// benchmarks; test/fitness/node-flags.test.ts holds them equal) is a floor: V8 runs no full GC
// while its old generation plus the ArrayBuffer memory allocated since the last one stay below
// 64 MiB. A large object moves through many short-lived ArrayBuffers (blob chunks, cipher
// outputs); without a floor a process can fall into back-to-back full GCs that double its CPU
// per MiB (docs/benchmarks.md, transfer section). 48 brings that back (~100 full GCs per GiB
// through the gate); 64 keeps it at 0-1. The floor also bounds the garbage the server holds, and
// so its RSS, since malloc keeps memory resident once it has held it: it was 256, which let the
// garbage of small requests and listings take the RSS past 300 MB (S3 section, "RSS under 200
// MB", 2026-11-28). V8's young generation keeps its default size: halving it
// (`--max-semi-space-size=8`) saved ~16 MB but cost ~15% of GET 4 KiB's rate.
// It is a limit, not memory committed up front. V8 reads it only at start-up
// (`v8.setFlagsFromString` is too late, NODE_OPTIONS refuses it), hence the command line.
import { runCli } from './index.js'

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
})
