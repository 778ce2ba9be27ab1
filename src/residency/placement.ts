/** Where a request for a bucket is served: here, or redirected to the bucket's home data center. */
export type PlacementDecision =
  | { readonly kind: 'serve' }
  | { readonly kind: 'redirect'; readonly dcId: string }

/**
 * The placement rule: a bucket is served only by its home data center; any other gateway
 * answers with a redirect and never touches the bytes.
 */
export function placementOf(bucketHome: string, servingDc: string): PlacementDecision {
  return bucketHome === servingDc ? { kind: 'serve' } : { kind: 'redirect', dcId: bucketHome }
}
