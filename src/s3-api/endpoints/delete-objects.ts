import { createHash } from 'node:crypto'
import { bucketRecordOf } from '../access-control.js'
import { accessOf, actionOf, mayAccess } from '../authorize.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { toS3Error } from '../errors.js'
import { validateKey } from '../object-headers.js'
import { bypassGovernanceOf } from '../object-lock.js'
import { contentMd5Of } from '../object-writer.js'
import { sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { childList, childText, parseXml } from '../xml/parse.js'
import { deleteVersioned } from './delete-object.js'

/** DeleteObjects: up to 1000 keys (or versions) in one request, verbose or quiet. */
export async function deleteObjects(ctx: RequestContext): Promise<void> {
  const body = await readSmallBody(ctx, 2 * 1024 * 1024)
  const md5 = contentMd5Of(ctx.req.headers)
  if (md5 !== null && !md5.equals(createHash('md5').update(body).digest())) {
    throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.')
  }
  const doc = parseXml(body)
  const root = doc.Delete
  if (root === undefined) throw S3Errors.malformedXml()
  const quiet = childText(root, 'Quiet')?.toLowerCase() === 'true'
  const objects = childList(root, 'Object')
  if (objects.length === 0 || objects.length > 1000) throw S3Errors.malformedXml()
  const deleted: Array<Record<string, string | boolean>> = []
  const errors: Array<{ Key: string; VersionId?: string; Code: string; Message: string }> = []
  const access = accessOf(ctx, await bucketRecordOf(ctx))
  for (const object of objects) {
    const key = childText(object, 'Key')
    if (key === undefined) throw S3Errors.malformedXml()
    const versionId = childText(object, 'VersionId')
    try {
      validateKey(key)
      const action = actionOf('DeleteObject', versionId !== undefined)
      if (!(await mayAccess(access, 'DeleteObject', key, action))) throw S3Errors.accessDenied()
      // x-amz-bypass-governance-retention applies to every key, each judged on its own.
      const bypass = await bypassGovernanceOf(ctx, access.record, key)
      const result = await deleteVersioned(ctx, key, versionId, bypass)
      // S3's shapes: a named version echoes VersionId (and DeleteMarker when it was one); a
      // marker written gives DeleteMarker and DeleteMarkerVersionId.
      if (versionId !== undefined) {
        deleted.push({
          Key: key,
          VersionId: versionId,
          ...(result.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: versionId } : {}),
        })
      } else if (result.deleteMarker) {
        deleted.push({
          Key: key,
          DeleteMarker: true,
          DeleteMarkerVersionId: result.versionId ?? 'null',
        })
      } else {
        deleted.push({ Key: key })
      }
    } catch (err) {
      const wire = toS3Error(err)
      if (wire.internal) ctx.log.error({ err }, 'Delete of one key failed')
      errors.push({
        Key: key,
        ...(versionId === undefined ? {} : { VersionId: versionId }),
        Code: wire.code,
        Message: wire.message,
      })
    }
  }
  sendXml(ctx.res, 200, 'DeleteResult', { Deleted: quiet ? [] : deleted, Error: errors })
}
