/**
 * Compiles an IAM wildcard pattern (`*` any run of characters, `?` exactly one) into an anchored
 * RegExp. `${*}`, `${?}` and `${$}` stand for the literal characters, as IAM policy variables do.
 */
export function wildcardRegExp(pattern: string, options: { ignoreCase: boolean }): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (c === '$' && pattern[i + 1] === '{' && pattern[i + 3] === '}') {
      const literal = pattern[i + 2] as string
      if (literal === '*' || literal === '?' || literal === '$') {
        source += escapeRegExp(literal)
        i += 3
        continue
      }
    }
    if (c === '*') source += '.*'
    else if (c === '?') source += '.'
    else source += escapeRegExp(c)
  }
  return new RegExp(`^${source}$`, options.ignoreCase ? 'is' : 's')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
}

/** Whether `pattern` holds a wildcard (`*` or `?`, not escaped as `${*}`/`${?}`). */
export function hasWildcard(pattern: string): boolean {
  return /[*?]/.test(pattern.replace(/\$\{[*?$]\}/g, ''))
}

/** One matcher for a list of patterns: true when any pattern matches. */
export function anyPattern(
  patterns: readonly string[],
  options: { ignoreCase: boolean },
): (text: string) => boolean {
  if (patterns.some((p) => p === '*')) return () => true
  const exact = new Set<string>()
  const regexps: RegExp[] = []
  for (const p of patterns) {
    if (hasWildcard(p) || p.includes('${')) regexps.push(wildcardRegExp(p, options))
    else exact.add(options.ignoreCase ? p.toLowerCase() : p)
  }
  return (text) => {
    if (exact.size > 0 && exact.has(options.ignoreCase ? text.toLowerCase() : text)) return true
    for (const r of regexps) if (r.test(text)) return true
    return false
  }
}
