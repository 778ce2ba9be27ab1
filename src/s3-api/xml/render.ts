/** A value the XML renderer understands: nested elements, repeated elements as arrays. */
export type XmlValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly XmlValue[]
  | { readonly [name: string]: XmlValue }

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
}

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

function renderInto(out: string[], name: string, value: XmlValue): void {
  if (value === undefined || value === null) return
  if (Array.isArray(value)) {
    for (const item of value as readonly XmlValue[]) renderInto(out, name, item)
    return
  }
  if (typeof value === 'object') {
    out.push(`<${name}>`)
    for (const [child, v] of Object.entries(value)) renderInto(out, child, v)
    out.push(`</${name}>`)
    return
  }
  out.push(`<${name}>${escapeXml(String(value))}</${name}>`)
}

/** Renders one S3 response document with the S3 namespace on its root element. */
export function renderXml(
  root: string,
  body: { readonly [name: string]: XmlValue },
  namespace = true,
): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
  out.push(namespace ? `<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` : `<${root}>`)
  for (const [child, v] of Object.entries(body)) renderInto(out, child, v)
  out.push(`</${root}>`)
  return out.join('')
}
