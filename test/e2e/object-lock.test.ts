// Object Lock through the Debian aws cli v2 against the built server: a bucket created with
// Object Lock, a legal hold and a COMPLIANCE retention set with `aws s3api`, a refused version
// delete, and the locks still there and enforced after the server is SIGKILLed and restarted.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bucketName } from './lib/e2e-helpers.js'
import { restartableSovra } from './lib/restartable-server.js'

const DC = 'ap-southeast-1'
const sovra = restartableSovra('sovra-e2e-object-lock-')
const s3api = (args: string[]) => sovra.s3api(DC, args)

describe('aws s3api Object Lock', () => {
  const Bucket = bucketName('awslock')
  let versionId = ''
  const until = new Date(Date.now() + 2 * 24 * 60 * 60 * 1000).toISOString()

  it('sets a legal hold and COMPLIANCE retention, and a locked version cannot be deleted', async () => {
    await s3api(['create-bucket', '--bucket', Bucket, '--object-lock-enabled-for-bucket'])
    const file = join(sovra.work, 'doc.txt')
    writeFileSync(file, 'kept for the auditors')
    const put = await s3api(['put-object', '--bucket', Bucket, '--key', 'doc', '--body', file])
    versionId = put.VersionId as string
    const version = ['--bucket', Bucket, '--key', 'doc', '--version-id', versionId]
    const never = await sovra.s3apiRun(DC, ['get-object-legal-hold', ...version])
    expect(never.code).not.toBe(0)
    expect(never.stderr).toContain('NoSuchObjectLockConfiguration')
    await s3api(['put-object-legal-hold', ...version, '--legal-hold', 'Status=ON'])
    await s3api([
      'put-object-retention',
      ...version,
      '--retention',
      `Mode=COMPLIANCE,RetainUntilDate=${until}`,
    ])
    const hold = await s3api(['get-object-legal-hold', ...version])
    expect(hold).toEqual({ LegalHold: { Status: 'ON' } })
    const ret = await s3api(['get-object-retention', ...version])
    expect((ret.Retention as { Mode: string }).Mode).toBe('COMPLIANCE')
    const del = await sovra.s3apiRun(DC, ['delete-object', ...version])
    expect(del.code).not.toBe(0)
    expect(del.stderr).toContain('AccessDenied')
  })

  it('keeps and enforces the locks after a SIGKILL and restart', async () => {
    await sovra.restart()
    const version = ['--bucket', Bucket, '--key', 'doc', '--version-id', versionId]
    await s3api(['put-object-legal-hold', ...version, '--legal-hold', 'Status=OFF'])
    expect(await s3api(['get-object-legal-hold', ...version])).toEqual({
      LegalHold: { Status: 'OFF' },
    })
    const ret = await s3api(['get-object-retention', ...version])
    expect((ret.Retention as { Mode: string }).Mode).toBe('COMPLIANCE')
    const del = await sovra.s3apiRun(DC, [
      'delete-object',
      ...version,
      '--bypass-governance-retention',
    ])
    expect(del.code).not.toBe(0)
    expect(del.stderr).toContain('AccessDenied')
    const head = await s3api(['head-object', ...version])
    expect(head.ObjectLockMode).toBe('COMPLIANCE')
  })
})
