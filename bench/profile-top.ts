// Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench:s3 -- --profile --only=put4k`):
//   node --import tsx bench/profile-top.ts <file.cpuprofile> [topN]
// Prints self time per function and inclusive time per function (top N each), as % of samples.
import { readFileSync } from 'node:fs'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
  hitCount?: number
}
const [file, topArg] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: profile-top.ts <file.cpuprofile> [topN]')
const top = Number(topArg ?? 25)
const prof = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const hits = new Map<number, number>()
for (const s of prof.samples) hits.set(s, (hits.get(s) ?? 0) + 1)
const total = prof.samples.length
const name = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(dist|src|node_modules)\//, '$1/')
  return `${n.callFrame.functionName || '(anonymous)'} ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`
}
const self = new Map<string, number>()
const incl = new Map<string, number>()
for (const [id, h] of hits) {
  const n = byId.get(id) as Node
  self.set(name(n), (self.get(name(n)) ?? 0) + h)
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur) as Node)
    if (seen.has(k)) continue
    seen.add(k)
    incl.set(k, (incl.get(k) ?? 0) + h)
  }
}
const idle = [...self.entries()]
  .filter(([k]) => k.startsWith('(idle)'))
  .reduce((a, [, v]) => a + v, 0)
const durationMs = prof.timeDeltas.reduce((a, b) => a + b, 0) / 1000
console.log(
  `${file}: ${total} samples over ${(durationMs / 1000).toFixed(1)} s, idle ${((idle / total) * 100).toFixed(1)}%`,
)
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (% of all samples)`)
  for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
  }
}
show('self time', self)
show('inclusive time', incl)
