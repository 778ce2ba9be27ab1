import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/** The repository root (this file is `test/fitness/sources.ts`). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A source file: its path relative to the root (always with `/`) and its syntax tree. */
export interface Source {
  readonly path: string
  readonly ast: ts.SourceFile
}

/** Test-only files: tests, contract suites and their fixtures. */
export function isTestFile(path: string): boolean {
  return (
    /\.test\.ts$/.test(path) ||
    /\.contract\.ts$/.test(path) ||
    /(^|\/)test-fixtures\.ts$/.test(path) ||
    path.startsWith('test/')
  )
}

function walk(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const full = join(dir, entry.name)
    if (entry.isDirectory()) walk(full, out)
    else if (/\.(ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full)
  }
  return out
}

/** Every TypeScript file under the given root-relative folders, parsed. */
export function sourcesUnder(...folders: string[]): Source[] {
  return folders
    .flatMap((folder) => walk(join(ROOT, folder), []))
    .sort()
    .map((file) => {
      const path = relative(ROOT, file).split(sep).join('/')
      const ast = ts.createSourceFile(
        path,
        readFileSync(file, 'utf8'),
        ts.ScriptTarget.Latest,
        true,
      )
      return { path, ast }
    })
}

/** Calls `visit` on every node of `ast`. */
export function eachNode(ast: ts.SourceFile, visit: (node: ts.Node) => void): void {
  const go = (node: ts.Node): void => {
    visit(node)
    ts.forEachChild(node, go)
  }
  go(ast)
}

/** `path:line` of a node, for failure messages. */
export function where(source: Source, node: ts.Node): string {
  const { line } = source.ast.getLineAndCharacterOfPosition(node.getStart(source.ast))
  return `${source.path}:${line + 1}`
}

/** A document under `docs/`, as text. */
export function readDoc(name: string): string {
  return readFileSync(join(ROOT, 'docs', name), 'utf8')
}

/**
 * The sections of a Markdown document by heading (`## Title` and deeper), each with its body up
 * to the next heading of the same or a higher level.
 */
export function sections(markdown: string): Array<{ heading: string; body: string }> {
  const lines = markdown.split('\n')
  const out: Array<{ heading: string; body: string }> = []
  lines.forEach((line, i) => {
    const m = /^(#{2,6})\s+(.*)$/.exec(line)
    if (m === null) return
    const level = (m[1] as string).length
    let end = lines.length
    for (let j = i + 1; j < lines.length; j++) {
      const next = /^(#{1,6})\s/.exec(lines[j] as string)
      if (next !== null && (next[1] as string).length <= level) {
        end = j
        break
      }
    }
    out.push({ heading: m[2] as string, body: lines.slice(i + 1, end).join('\n') })
  })
  return out
}

/** The cells of every Markdown table row in `markdown` (header and separator rows excluded). */
export function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim()),
    )
    .filter((cells) => !cells.every((cell) => /^:?-+:?$/.test(cell)))
}

/** The identifiers written in backticks in a Markdown cell: `` `NoSuchKey` `` → `NoSuchKey`. */
export function codesIn(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)
}
