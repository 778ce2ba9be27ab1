export type { ExportRule } from './export-rule-schema.js'
export { EXPORT_RULE_VERSION, exportRuleSchema, SOURCE_CONFIDENCES } from './export-rule-schema.js'
export type { ExportRequirement } from './export-rules.js'
export {
  checkExport,
  createExportRules,
  DEFAULT_EXPORT_RULES_DIR,
  ExportRules,
  loadExportRules,
} from './export-rules.js'
