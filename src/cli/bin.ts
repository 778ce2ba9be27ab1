#!/usr/bin/env -S node --initial-old-space-size=64 --max-semi-space-size=8
// The flags above (also in package.json's `start` script, and read from this line by the
// benchmarks; test/fitness/node-flags.test.ts holds them equal) bound how much garbage V8 lets
// pile up, which is most of what the server's RSS is made of: malloc keeps memory resident once
// it has held it (docs/benchmarks.md, S3 section, "RSS under 200 MB", 2026-11-28).
// - `--initial-old-space-size=64` (MiB) is a floor: V8 runs no full GC while its old generation
//   plus the ArrayBuffer memory allocated since the last one stay below it. A large object moves
//   through many short-lived ArrayBuffers (blob chunks, cipher outputs); without a floor a process
//   can fall into back-to-back full GCs that double its CPU per MiB (transfer section). 48 brings
//   that back (~100 full GCs per GiB through the gate); 64 keeps it at 0-1. It was 256, which let
//   the garbage of small requests and listings take the RSS past 300 MB.
// - `--max-semi-space-size=8` (MiB; Node 20's default is 16): the young generation's two halves,
//   resident once used. 4 made the RSS worse (more promoted garbage).
// Both are limits, not memory committed up front. V8 reads them only at start-up
// (`v8.setFlagsFromString` is too late, NODE_OPTIONS refuses the first), hence the command line.
import { runCli } from './index.js'

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
})
