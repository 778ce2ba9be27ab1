import { z } from 'zod'

/** The only export-rule file version this code reads. */
export const EXPORT_RULE_VERSION = 1

/** How sure the research behind a source is (the markers of the research the rules come from). */
export const SOURCE_CONFIDENCES = ['verified', 'secondary', 'uncertain'] as const

const jurisdiction = z
  .string()
  .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "CN"')
const sourceIds = z.array(z.string().min(1)).min(1, 'must cite at least one source')

/**
 * Schema of one export-rule file (`<iso-3166-alpha-2>.json`, lower case): whether an export out of
 * a data center in `jurisdiction` to another jurisdiction needs a stated legal basis, which basis
 * kinds are accepted, which destinations are refused outright, and the sources for each.
 * Unknown fields are errors.
 */
export const exportRuleSchema = z.strictObject({
  version: z.literal(EXPORT_RULE_VERSION),
  jurisdiction,
  name: z.string().min(1).max(200),
  requiresLegalBasis: z.boolean(),
  acceptedBasisKinds: z.array(
    z.strictObject({
      kind: z
        .string()
        .regex(/^[A-Z]{2}(-[A-Za-z0-9]+)+$/, 'must look like "CN-PIPL-standard-contract"'),
      description: z.string().min(1).max(1000),
      sources: sourceIds,
    }),
  ),
  restrictedDestinations: z.array(z.strictObject({ jurisdiction, sources: sourceIds })),
  notes: z.array(z.string().min(1).max(2000)),
  sources: z.array(
    z.strictObject({
      id: z.string().min(1).max(16),
      urls: z.array(z.url()).min(1),
      cites: z.string().min(1).max(300),
      confidence: z.enum(SOURCE_CONFIDENCES),
    }),
  ),
})

/** One validated export-rule file. */
export type ExportRule = z.infer<typeof exportRuleSchema>
