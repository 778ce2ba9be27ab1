import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { S3Errors } from '../s3-error.js'

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

/**
 * Decodes the five predefined entities and numeric character references in one pass, so
 * `&amp;#34;` stays the text `&#34;`. Clients escape ETag quotes as `&quot;` (AWS SDKs) or
 * `&#34;` (Go's encoding/xml, used by rclone). Nothing else is expanded: a DOCTYPE is refused
 * before parsing, so no entity can be declared (no XXE, no billion laughs).
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

const parser = new XMLParser({
  ignoreAttributes: true,
  processEntities: false,
  tagValueProcessor: (_name: string, value: string) => decodeXmlText(value),
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  removeNSPrefix: true,
})

/** A parsed element: text, or child elements by name (repeated children become arrays). */
export type XmlNode = string | { readonly [name: string]: XmlNode | readonly XmlNode[] }

/**
 * Parses a request body. Documents with a DOCTYPE or entity declarations are refused outright
 * (no XXE, no billion laughs); malformed documents get `MalformedXML`.
 */
export function parseXml(body: Buffer | string): Record<string, XmlNode> {
  const text = typeof body === 'string' ? body : body.toString('utf8')
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw S3Errors.malformedXml()
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw S3Errors.malformedXml()
  const doc: unknown = parser.parse(text)
  if (doc === null || typeof doc !== 'object') throw S3Errors.malformedXml()
  return doc as Record<string, XmlNode>
}

/** Children of `node` named `name`, always as an array. */
export function childList(node: XmlNode | readonly XmlNode[] | undefined, name: string): XmlNode[] {
  if (node === undefined || typeof node === 'string' || Array.isArray(node)) return []
  const value = (node as Record<string, XmlNode | readonly XmlNode[]>)[name]
  if (value === undefined) return []
  return Array.isArray(value) ? [...(value as readonly XmlNode[])] : [value as XmlNode]
}

/** Text of the single child `name`, or undefined. */
export function childText(node: XmlNode | undefined, name: string): string | undefined {
  const [first] = childList(node, name)
  if (first === undefined) return undefined
  return typeof first === 'string' ? first : ''
}
