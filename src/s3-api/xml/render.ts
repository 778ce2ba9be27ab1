/**
 * Elements rendered ahead of time (a listing's thousands of entries, written by one template per
 * entry): inserted as they are, in place of the element whose name they are given under.
 */
export class XmlFragment {
  readonly xml: string
  constructor(xml: string) {
    this.xml = xml
  }
}

/**
 * A value the XML renderer understands: nested elements, repeated elements as arrays, and
 * pre-rendered fragments.
 */
export type XmlValue =
  | XmlFragment
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

const NEEDS_ESCAPE = /[&<>"']/
const ESCAPE_ALL = /[&<>"']/g

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  // Most values (keys, ETags, dates, numbers) need no escaping: test once, replace rarely.
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPE_ALL, (c) => ESCAPES[c] ?? c) : text
}

/**
 * A child of this name renders its items (objects of one element each) in order, so elements of
 * different names can interleave, as ListObjectVersions' `Version` and `DeleteMarker` do.
 */
export const XML_SEQUENCE = '#sequence'

/** Appends the children of `node` in order (see `XML_SEQUENCE`). */
function renderChildren(out: string, node: { readonly [name: string]: XmlValue }): string {
  let acc = out
  for (const child in node) {
    const value = node[child]
    if (child === XML_SEQUENCE && Array.isArray(value)) {
      for (const item of value as readonly XmlValue[]) {
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
          acc = renderChildren(acc, item as { readonly [name: string]: XmlValue })
        }
      }
    } else {
      acc = render(acc, child, value)
    }
  }
  return acc
}

/**
 * Appends `<name>value</name>` to `out`. A listing renders thousands of elements, so this builds
 * one string by concatenation (V8 ropes) instead of arrays of fragments.
 */
function render(out: string, name: string, value: XmlValue): string {
  if (value === undefined || value === null) return out
  if (value instanceof XmlFragment) return out + value.xml
  if (typeof value === 'string') return `${out}<${name}>${escapeXml(value)}</${name}>`
  if (typeof value === 'number' || typeof value === 'boolean')
    return `${out}<${name}>${value}</${name}>`
  if (Array.isArray(value)) {
    let acc = out
    for (const item of value as readonly XmlValue[]) acc = render(acc, name, item)
    return acc
  }
  const node = value as { readonly [name: string]: XmlValue }
  return `${renderChildren(`${out}<${name}>`, node)}</${name}>`
}

/** Renders one S3 response document with the S3 namespace on its root element. */
export function renderXml(
  root: string,
  body: { readonly [name: string]: XmlValue },
  namespace = true,
): string {
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n'
  out += namespace ? `<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` : `<${root}>`
  return `${renderChildren(out, body)}</${root}>`
}
