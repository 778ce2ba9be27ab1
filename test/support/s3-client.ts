import { S3Client, type S3ClientConfig, S3ServiceException } from '@aws-sdk/client-s3'
import { ROOT, type TestSovra } from './start-server.js'

/** An SDK client for one data center's endpoint, at the SDK's default checksum settings. */
export function s3For(
  server: TestSovra,
  dcId: string,
  credentials: { accessKeyId: string; secretAccessKey: string } = ROOT,
): S3Client {
  return new S3Client({
    endpoint: server.endpoint(dcId),
    region: dcId,
    forcePathStyle: true,
    credentials,
  })
}

/**
 * One client for every data center, the way Sovra users configure the SDK: each region maps to
 * its data center's endpoint, so `followRegionRedirects` lands at the bucket's home.
 */
export function s3ForAll(
  server: TestSovra,
  options: { region: string; followRegionRedirects?: boolean },
): S3Client {
  return new S3Client({
    region: options.region,
    forcePathStyle: true,
    credentials: ROOT,
    followRegionRedirects: options.followRegionRedirects ?? true,
    // Path-style: the provider names the bucket in the URL path itself, as the SDK's own rules do.
    endpointProvider: (params: { Region?: string; Bucket?: string }) => {
      const region = params.Region ?? options.region
      const base = server.endpoint(region)
      return {
        url: new URL(params.Bucket === undefined ? base : `${base}/${params.Bucket}`),
        properties: { authSchemes: [{ name: 'sigv4', signingName: 's3', signingRegion: region }] },
      }
    },
  } as S3ClientConfig)
}

/** Awaits a request that must fail with an S3 error, and returns that error. */
export async function s3Error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p
  } catch (err) {
    if (err instanceof S3ServiceException) return err
    throw err
  }
  throw new Error('Expected the request to fail')
}
