import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { decodeXmlText } from '../../core/index.js'
import { S3Errors } from '../s3-error.js'

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
