#!/usr/bin/env -S node --initial-old-space-size=256
// The flag above (also in package.json's `start` script, and read from this line by the
// benchmarks; test/fitness/node-flags.test.ts holds them equal): a large object moves through
// many short-lived ArrayBuffers (blob chunks, cipher outputs). V8 counts their memory against an
// old generation that starts tiny, and a process can fall into back-to-back full GCs that double
// its CPU per MiB (docs/benchmarks.md, 2026-11-28). A larger initial old space keeps it out of
// that regime; it is a limit, not memory committed up front. V8 reads it only at start-up
// (`v8.setFlagsFromString` is too late, NODE_OPTIONS refuses it), hence the command line.
import { runCli } from './index.js'

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
})
