import { createHash } from 'node:crypto'
import { bucketRecordOf } from '../access-control.js'
import { changeEvent, commitment } from '../audit.js'
import { accessOf, mayAccess } from '../authorize.js'
import { readSmallBody } from '../body.js'
import type { RequestContext } from '../context.js'
import { toS3Error } from '../errors.js'
import { validateKey } from '../object-headers.js'
import { contentMd5Of } from '../object-writer.js'
import { sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { childList, childText, parseXml } from '../xml/parse.js'
import { removeBlobs } from './store-object.js'

/** DeleteObjects: up to 1000 keys in one request, verbose or quiet. */
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
  const deleted: Array<{ Key: string }> = []
  const errors: Array<{ Key: string; Code: string; Message: string }> = []
  const access = accessOf(ctx, await bucketRecordOf(ctx))
  for (const object of objects) {
    const key = childText(object, 'Key')
    if (key === undefined) throw S3Errors.malformedXml()
    try {
      validateKey(key)
      const versionId = childText(object, 'VersionId')
      if (versionId !== undefined && versionId !== 'null') {
        throw S3Errors.invalidArgument('Invalid version id specified', 'versionId', versionId)
      }
      if (!(await mayAccess(access, 'DeleteObject', key))) throw S3Errors.accessDenied()
      const { orphaned } = await ctx.deps.cell.meta.deleteObject(
        ctx.s3.bucket as string,
        key,
        await changeEvent(ctx, { type: 'object.delete', key: await commitment(ctx, key) }),
      )
      await removeBlobs(
        ctx,
        orphaned.map((p) => p.ref),
      )
      deleted.push({ Key: key })
    } catch (err) {
      const wire = toS3Error(err)
      if (wire.internal) ctx.log.error({ err }, 'Delete of one key failed')
      errors.push({ Key: key, Code: wire.code, Message: wire.message })
    }
  }
  sendXml(ctx.res, 200, 'DeleteResult', { Deleted: quiet ? [] : deleted, Error: errors })
}
