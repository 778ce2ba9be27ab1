// Sovra's architecture, checked on every `npm run lint` (STYLE.md habit 2, DESIGN.md "Layers").
//
//   main.ts, data-centers.ts, config/    composition root
//   s3-api/ admin-api/ cli/ console/     faces
//   residency/ legal/ access/            promises
//   cell/ directory/ witness/            composition (witness/: the standalone tlog witness)
//   ledger/ keys/                        proofs and ownership
//   meta/ blob/                          drivers behind small interfaces
//   core/                                shared building blocks; imports nothing from src/
//
// Dependencies point down only: a module may import its own top folder freely, and another top
// folder only through that folder's `index.ts`, and only if that folder sits in a lower layer.
// Folders of one layer do not import each other (a face does not call another face).
// "Only residency/transfer/ may build or hold two cells": the rule `cells-only-in-transfer-gate`
// below keeps the rest of residency/ away from cell/, and the fitness tests
// test/fitness/source-rules.test.ts (who calls createCell) and test/fitness/two-cells.test.ts
// (no type outside main.ts and residency/transfer/ can hold two cells; both checks shown to fail
// on a deliberate violation) do the part import rules cannot.

/** Top folders of `src/`, highest layer first. `main.ts` is the composition root's file. */
const LAYERS = [
  ['main.ts', 'data-centers.ts', 'config'],
  ['s3-api', 'admin-api', 'cli', 'console'],
  ['residency', 'legal', 'access'],
  ['cell', 'directory', 'witness'],
  ['ledger', 'keys'],
  ['meta', 'blob'],
  ['core'],
]

/** Narrow, reasoned exceptions to the layer order: folder → extra paths it may import. */
const UPWARD_EXCEPTIONS = {
  // main.ts, data-centers.ts and config/ are one layer, the composition root: main.ts reads the
  // configuration and starts the data centers through data-centers.ts, which reads it too.
  'main.ts': ['^src/config/', '^src/data-centers\\.ts$'],
  'data-centers.ts': ['^src/config/'],
  // `sovra serve` is the process entry point: the CLI loads the configuration and calls
  // main.ts's serve(). It is the only face allowed to reach the composition root, and only
  // through these two doors.
  cli: ['^src/main\\.ts$', '^src/config/index\\.ts$'],
}

const escapeDots = (name) => name.replace(/\./g, '\\.')
/** The path pattern of a top folder (`^src/meta/`) or of `src/main.ts`. */
const pathOf = (name) => (name.endsWith('.ts') ? `^src/${escapeDots(name)}$` : `^src/${name}/`)
const KNOWN = LAYERS.flat()
const KNOWN_PATTERN = `^src/(?:${KNOWN.map((n) => (n.endsWith('.ts') ? `${escapeDots(n)}$` : `${n}/`)).join('|')})`

/** One rule per top folder: it may import itself and the layers below it, nothing else in src/. */
const layerRules = LAYERS.slice(0, -1).flatMap((layer, i) => {
  const below = LAYERS.slice(i + 1).flat()
  return layer.map((name) => ({
    name: `layer-${name.replace('.ts', '')}`,
    comment: `${name} may import only itself and lower layers (${below.join(', ')}): never upward, never sideways`,
    severity: 'error',
    from: { path: pathOf(name) },
    to: {
      path: '^src/',
      pathNot: [pathOf(name), ...below.map(pathOf), ...(UPWARD_EXCEPTIONS[name] ?? [])],
    },
  }))
})

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Cycles make layers meaningless and initialisation order fragile',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'cells-only-in-transfer-gate',
      comment:
        'Only residency/transfer/ may hold two cells (DESIGN.md): the rest of residency/ decides placement and export rules from the directory alone and never imports cell/',
      severity: 'error',
      from: { path: '^src/residency/', pathNot: '^src/residency/transfer/' },
      to: { path: '^src/cell/' },
    },
    {
      name: 'core-imports-nothing',
      comment: 'core/ is the bottom: it imports nothing from src/ outside itself',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'only-through-index',
      comment:
        'Another top folder is reached only through its index.ts (its public door); anything it does not re-export is private. Imports within one top folder are free',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/[^/]+/',
        pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'main-only-through-index',
      comment: 'main.ts, too, reaches the folders it composes only through their index.ts',
      severity: 'error',
      from: { path: '^src/main\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: '^src/[^/]+/index\\.ts$' },
    },
    {
      name: 'unlayered-folder',
      comment: `Every top folder of src/ has a place in the layers (${KNOWN.join(', ')}); add a new one to LAYERS in .dependency-cruiser.cjs`,
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: KNOWN_PATTERN },
    },
    {
      name: 'unlayered-folder-imports',
      comment:
        'A top folder of src/ that is not in LAYERS imports from src/ unchecked: place it first',
      severity: 'error',
      from: { path: '^src/', pathNot: KNOWN_PATTERN },
      to: { path: '^src/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-dev-dep',
      comment:
        'Production code must not need a devDependency (tests, contract suites and test fixtures may)',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: ['\\.test\\.ts$', '\\.contract\\.ts$', '/test-fixtures\\.ts$'],
      },
      to: { dependencyTypes: ['npm-dev'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a layer must not even name an upper layer's types.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    exclude: { path: '^dist/' },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
