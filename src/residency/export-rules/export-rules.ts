import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LegalBasis } from '../transfer/instruction.js'
import { type ResidencyError, ResidencyErrors } from '../transfer/residency-error.js'
import { type ExportRule, exportRuleSchema } from './export-rule-schema.js'

/** The folder holding the shipped default rules (this folder's `*.json`). */
export const DEFAULT_EXPORT_RULES_DIR = fileURLToPath(new URL('.', import.meta.url))

/**
 * What an export from one jurisdiction to another requires. A pure value:
 * - `domestic`: both ends are in the same jurisdiction, nothing is exported;
 * - `free`: the source's rule asks for no stated basis;
 * - `basis`: the instruction must state one of `acceptedKinds`;
 * - `restricted`: the rule refuses that destination whatever the basis;
 * - `no-rule`: there is no rule for the source jurisdiction, so the export is refused.
 */
export type ExportRequirement =
  | { readonly kind: 'domestic'; readonly jurisdiction: string }
  | { readonly kind: 'free'; readonly from: string; readonly to: string }
  | {
      readonly kind: 'basis'
      readonly from: string
      readonly to: string
      readonly acceptedKinds: readonly string[]
    }
  | { readonly kind: 'restricted'; readonly from: string; readonly to: string }
  | { readonly kind: 'no-rule'; readonly from: string; readonly to: string }

/** The validated export rules, one per source jurisdiction. */
export class ExportRules {
  readonly #rules: ReadonlyMap<string, ExportRule>

  constructor(rules: Iterable<ExportRule>) {
    this.#rules = new Map([...rules].map((rule) => [rule.jurisdiction, rule]))
  }

  /** Jurisdictions that have a rule, sorted. */
  jurisdictions(): string[] {
    return [...this.#rules.keys()].sort()
  }

  /** The rule for a source jurisdiction, or `null`. */
  ruleFor(jurisdiction: string): ExportRule | null {
    return this.#rules.get(jurisdiction) ?? null
  }

  /** What an export from `fromJurisdiction` to `toJurisdiction` requires. */
  exportRequirement(fromJurisdiction: string, toJurisdiction: string): ExportRequirement {
    const from = fromJurisdiction
    const to = toJurisdiction
    if (from === to) return { kind: 'domestic', jurisdiction: from }
    const rule = this.#rules.get(from)
    if (rule === undefined) return { kind: 'no-rule', from, to }
    if (rule.restrictedDestinations.some((d) => d.jurisdiction === to)) {
      return { kind: 'restricted', from, to }
    }
    if (!rule.requiresLegalBasis) return { kind: 'free', from, to }
    return { kind: 'basis', from, to, acceptedKinds: rule.acceptedBasisKinds.map((b) => b.kind) }
  }
}

/**
 * Judges a stated legal basis against a requirement: `null` when the export may go ahead,
 * otherwise the refusal. A basis stated where none is required is accepted (and recorded by the
 * caller with the instruction).
 */
export function checkExport(
  requirement: ExportRequirement,
  legalBasis: LegalBasis | undefined,
): ResidencyError | null {
  switch (requirement.kind) {
    case 'domestic':
    case 'free':
      return null
    case 'no-rule':
      return ResidencyErrors.exportRuleMissing(requirement.from)
    case 'restricted':
      return ResidencyErrors.exportDestinationRestricted(requirement.from, requirement.to)
    case 'basis': {
      const { from, to, acceptedKinds } = requirement
      if (legalBasis === undefined)
        return ResidencyErrors.exportBasisRequired(from, to, acceptedKinds)
      if (!acceptedKinds.includes(legalBasis.kind)) {
        return ResidencyErrors.exportBasisNotAccepted(from, legalBasis.kind, acceptedKinds)
      }
      return null
    }
  }
}

/**
 * Validates export-rule documents and builds the rules. `file` names each document in errors and
 * must be `<jurisdiction in lower case>.json`. Throws `ExportRulesInvalid`.
 */
export function createExportRules(
  documents: ReadonlyArray<{ readonly file: string; readonly content: unknown }>,
): ExportRules {
  const rules: ExportRule[] = []
  const seen = new Set<string>()
  for (const { file, content } of documents) {
    const parsed = exportRuleSchema.safeParse(content)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const path = issue?.path.join('.') || '(root)'
      throw ResidencyErrors.exportRulesInvalid(
        file,
        `"${path}" ${lowerFirst(issue?.message ?? 'is invalid')}`,
      )
    }
    const rule = parsed.data
    const expected = `${rule.jurisdiction.toLowerCase()}.json`
    if (file.replace(/^.*[/\\]/, '') !== expected) {
      throw ResidencyErrors.exportRulesInvalid(
        file,
        `a rule for "${rule.jurisdiction}" must be named "${expected}"`,
      )
    }
    if (seen.has(rule.jurisdiction)) {
      throw ResidencyErrors.exportRulesInvalid(
        file,
        `"${rule.jurisdiction}" has more than one rule`,
      )
    }
    seen.add(rule.jurisdiction)
    checkConsistency(file, rule)
    rules.push(rule)
  }
  return new ExportRules(rules)
}

/** Reads and validates every `*.json` file of a folder (by default the shipped rules). */
export function loadExportRules(options: { readonly dir?: string } = {}): ExportRules {
  const dir = options.dir ?? DEFAULT_EXPORT_RULES_DIR
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
  const documents = files.map((name) => {
    const path = join(dir, name)
    let content: unknown
    try {
      content = JSON.parse(readFileSync(path, 'utf8')) as unknown
    } catch (cause) {
      throw ResidencyErrors.exportRulesInvalid(
        path,
        `cannot read it as JSON: ${(cause as Error).message}`,
        cause,
      )
    }
    return { file: path, content }
  })
  return createExportRules(documents)
}

function checkConsistency(file: string, rule: ExportRule): void {
  const fail = (reason: string) => ResidencyErrors.exportRulesInvalid(file, reason)
  const ids = new Set<string>()
  for (const source of rule.sources) {
    if (ids.has(source.id)) throw fail(`source "${source.id}" is listed twice`)
    ids.add(source.id)
  }
  const cited = [
    ...rule.acceptedBasisKinds.flatMap((b) => b.sources),
    ...rule.restrictedDestinations.flatMap((d) => d.sources),
  ]
  for (const id of cited) {
    if (!ids.has(id)) throw fail(`source "${id}" is cited but not listed in "sources"`)
  }
  if (rule.requiresLegalBasis && rule.acceptedBasisKinds.length === 0) {
    throw fail(
      '"acceptedBasisKinds" is empty but "requiresLegalBasis" is true: no export could pass',
    )
  }
  const kinds = new Set<string>()
  for (const { kind } of rule.acceptedBasisKinds) {
    if (!kind.startsWith(`${rule.jurisdiction}-`)) {
      throw fail(`basis kind "${kind}" must start with "${rule.jurisdiction}-"`)
    }
    if (kinds.has(kind)) throw fail(`basis kind "${kind}" is listed twice`)
    kinds.add(kind)
  }
  for (const { jurisdiction } of rule.restrictedDestinations) {
    if (jurisdiction === rule.jurisdiction) throw fail(`"${jurisdiction}" cannot restrict itself`)
  }
}

function lowerFirst(text: string): string {
  return text.length === 0 ? text : `${text[0]?.toLowerCase() ?? ''}${text.slice(1)}`
}
