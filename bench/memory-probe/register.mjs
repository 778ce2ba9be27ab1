// Bench only: what the server's memory is made of, as V8 sees it. bench/s3-bench.ts (`--memory`)
// starts Sovra as
//
//   node --import ./bench/memory-probe/register.mjs dist/cli/bin.js serve
//
// with BENCH_MEMORY_PROBE_FILE set; on SIGUSR2 this module writes process.memoryUsage() and V8's
// heap statistics (per space) to that file, and the bench sets them beside the kernel's view of
// the same process (/proc/<pid>/status and smaps). With BENCH_MEMORY_PROBE_GC=1 it then runs a
// full GC and writes the figures again, which tells garbage from live data (and perturbs the run:
// for exploring only). Sovra has no such switch: nothing here reaches dist/.
import { renameSync, writeFileSync } from 'node:fs'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { isMainThread } from 'node:worker_threads'

const file = process.env.BENCH_MEMORY_PROBE_FILE
const withGc = process.env.BENCH_MEMORY_PROBE_GC === '1'

if (isMainThread && file !== undefined && file !== '') {
  let gc = null
  if (withGc) {
    v8.setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc')
  }
  process.on('SIGUSR2', () => {
    const report = { at: Date.now(), before: figures() }
    if (gc !== null) {
      gc()
      report.afterGc = figures()
    }
    writeFileSync(`${file}.tmp`, JSON.stringify(report))
    renameSync(`${file}.tmp`, file)
  })
}

function figures() {
  const mu = process.memoryUsage()
  const heap = v8.getHeapStatistics()
  const spaces = {}
  for (const s of v8.getHeapSpaceStatistics()) {
    spaces[s.space_name] = {
      size: s.space_size,
      physical: s.physical_space_size,
      used: s.space_used_size,
    }
  }
  return {
    rss: mu.rss,
    heapTotal: mu.heapTotal,
    heapUsed: mu.heapUsed,
    external: mu.external,
    arrayBuffers: mu.arrayBuffers,
    heapPhysical: heap.total_physical_size,
    heapLimit: heap.heap_size_limit,
    mallocedByV8: heap.malloced_memory,
    peakMallocedByV8: heap.peak_malloced_memory,
    spaces,
  }
}
