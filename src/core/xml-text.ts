const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

/**
 * Decodes the five predefined entities and numeric character references in one pass, so
 * `&amp;#34;` stays the text `&#34;`. Clients escape ETag quotes as `&quot;` (AWS SDKs) or
 * `&#34;` (Go's encoding/xml, used by rclone). Nothing else is expanded: callers refuse a
 * DOCTYPE before parsing, so no entity can be declared (no XXE, no billion laughs).
 */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(
    /&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|amp|lt|gt|quot|apos);/g,
    (whole, ref: string) => {
      if (ref[0] !== '#') return NAMED[ref] ?? whole
      const code =
        ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
      return code > 0x10ffff ? whole : String.fromCodePoint(code)
    },
  )
}
