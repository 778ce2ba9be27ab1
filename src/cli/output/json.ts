/** Renders a value as indented JSON with a trailing newline, for `--json`. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
