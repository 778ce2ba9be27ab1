/** Where a request for a bucket is served: here, or redirected to the bucket's home data center. */
export type PlacementDecision =
  | { readonly kind: 'serve' }
  | { readonly kind: 'redirect'; readonly dcId: string }

/**
 * The placement rule: a bucket is served only by its home data center; any other gateway
 * answers with a redirect and never touches the bytes. A question the directory alone answers
 * (where is this bucket?) is served anywhere: it reads nothing of the cell.
 */
export function placementOf(
  bucketHome: string,
  servingDc: string,
  request: { readonly directoryOnly?: boolean } = {},
): PlacementDecision {
  if (bucketHome === servingDc || request.directoryOnly === true) return { kind: 'serve' }
  return { kind: 'redirect', dcId: bucketHome }
}
