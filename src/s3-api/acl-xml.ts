import { ACL_PERMISSIONS, CANONICAL_ID, GROUP_URIS } from '../access/index.js'
import type { AccessControlList, AclGrant, AclPermission } from '../meta/index.js'
import { S3Error } from './s3-error.js'
import { childList, childText, parseXml, type XmlNode } from './xml/parse.js'
import { escapeXml } from './xml/render.js'

/** Display names of canonical ids, for the ACL documents we answer. */
export type DisplayNames = (canonicalId: string) => string | undefined

const malformedAcl = () =>
  new S3Error(
    'MalformedACLError',
    'The XML you provided was not well-formed or did not validate against our published schema',
  )

function grantOf(node: XmlNode): AclGrant {
  const [grantee] = childList(node, 'Grantee')
  const permission = childText(node, 'Permission')
  if (grantee === undefined || permission === undefined) throw malformedAcl()
  if (!(ACL_PERMISSIONS as readonly string[]).includes(permission)) throw malformedAcl()
  const id = childText(grantee, 'ID')
  const uri = childText(grantee, 'URI')
  if (childText(grantee, 'EmailAddress') !== undefined) {
    throw new S3Error(
      'UnresolvableGrantByEmailAddress',
      'The email address you provided does not match any account on record.',
    )
  }
  if (id !== undefined && uri === undefined) {
    if (!CANONICAL_ID.test(id)) throw invalidId(id)
    return { grantee: { type: 'CanonicalUser', id }, permission: permission as AclPermission }
  }
  if (uri !== undefined && id === undefined && GROUP_URIS.has(uri)) {
    return { grantee: { type: 'Group', uri }, permission: permission as AclPermission }
  }
  throw malformedAcl()
}

function invalidId(id: string): S3Error {
  return new S3Error('InvalidArgument', 'Invalid id', {
    ArgumentName: 'CanonicalUser/ID',
    ArgumentValue: id,
  })
}

/**
 * Parses an `AccessControlPolicy` document (PutBucketAcl / PutObjectAcl body). Anything that is
 * not one is `MalformedACLError`; the owner must be the resource's owner (`expectedOwner`).
 */
export function parseAclXml(body: Buffer, expectedOwner: string): AccessControlList {
  let doc: Record<string, XmlNode>
  try {
    doc = parseXml(body)
  } catch {
    throw malformedAcl()
  }
  const policy = doc.AccessControlPolicy
  if (policy === undefined || typeof policy === 'string') throw malformedAcl()
  const [owner] = childList(policy, 'Owner')
  const ownerId = owner === undefined ? undefined : childText(owner, 'ID')
  const [list] = childList(policy, 'AccessControlList')
  if (ownerId === undefined || list === undefined) throw malformedAcl()
  const grants = childList(list, 'Grant').map(grantOf)
  if (ownerId !== expectedOwner) throw new S3Error('AccessDenied', 'Access Denied')
  return { owner: ownerId, grants }
}

/** Renders an ACL as S3's `AccessControlPolicy` (Grantee carries `xsi:type`, which the renderer lacks). */
export function aclXml(acl: AccessControlList, names: DisplayNames): string {
  const owner = `<ID>${escapeXml(acl.owner)}</ID>${displayName(names(acl.owner))}`
  let grants = ''
  for (const g of acl.grants) {
    const grantee =
      g.grantee.type === 'CanonicalUser'
        ? `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${escapeXml(g.grantee.id)}</ID>${displayName(names(g.grantee.id))}</Grantee>`
        : `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${escapeXml(g.grantee.uri)}</URI></Grantee>`
    grants += `<Grant>${grantee}<Permission>${g.permission}</Permission></Grant>`
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner>${owner}</Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`
}

function displayName(name: string | undefined): string {
  return name === undefined ? '' : `<DisplayName>${escapeXml(name)}</DisplayName>`
}
