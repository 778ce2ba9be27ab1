/** A tag a filter names or an object carries (structurally the store's `Tag`). */
export interface LifecycleTag {
  readonly key: string
  readonly value: string
}

/**
 * A bucket's lifecycle configuration (PutBucketLifecycleConfiguration), as stored and returned by
 * GetBucketLifecycleConfiguration. Plain JSON: the metadata store keeps it as is.
 */
export interface LifecycleConfiguration {
  readonly rules: readonly LifecycleRule[]
  /**
   * `x-amz-transition-default-minimum-object-size` as given (or AWS's default
   * `all_storage_classes_128K`). Sovra has no transitions, so it only round-trips.
   */
  readonly transitionDefaultMinimumObjectSize:
    | 'all_storage_classes_128K'
    | 'varies_by_storage_class'
}

/** One `Rule` of a lifecycle configuration. */
export interface LifecycleRule {
  /** The rule's `ID`, or one generated when the request had none (as AWS does). */
  readonly id: string
  readonly status: 'Enabled' | 'Disabled'
  readonly filter: LifecycleFilter
  readonly expiration: LifecycleExpiration | null
  readonly noncurrentVersionExpiration: NoncurrentVersionExpiration | null
  /** `AbortIncompleteMultipartUpload/DaysAfterInitiation`, or null. */
  readonly abortIncompleteMultipartUploadDays: number | null
}

/**
 * Which objects a rule applies to: every predicate present must hold. `form` keeps how the rule
 * said it (legacy top-level `Prefix`, an empty `Filter`, one predicate, or `And`), so GET answers
 * the same shape the client sent.
 */
export interface LifecycleFilter {
  readonly form:
    | 'legacy-prefix'
    | 'empty'
    | 'prefix'
    | 'tag'
    | 'size-greater-than'
    | 'size-less-than'
    | 'and'
  readonly prefix: string | null
  /** Tags the object must carry, each with exactly this value. */
  readonly tags: readonly LifecycleTag[]
  /** The object must be strictly larger than this many bytes. */
  readonly objectSizeGreaterThan: number | null
  /** The object must be strictly smaller than this many bytes. */
  readonly objectSizeLessThan: number | null
}

/** `Expiration`: exactly one of `days`, `date` or `expiredObjectDeleteMarker` is set. */
export interface LifecycleExpiration {
  /** Days after the object's last modification, rounded up to the next (accelerated) midnight. */
  readonly days: number | null
  /** Midnight UTC, as an ISO 8601 string (`2030-01-01T00:00:00.000Z`). */
  readonly date: string | null
  readonly expiredObjectDeleteMarker: boolean | null
}

/** `NoncurrentVersionExpiration`. */
export interface NoncurrentVersionExpiration {
  readonly noncurrentDays: number
  /** How many newer noncurrent versions to keep regardless of age, or null. */
  readonly newerNoncurrentVersions: number | null
}

/** What the lifecycle worker reads of one current object (no bytes). */
export interface LifecycleObjectFacts {
  readonly key: string
  readonly size: number
  readonly etag: string
  /** Milliseconds since the epoch. */
  readonly lastModified: number
  readonly tags: readonly LifecycleTag[]
}

/**
 * The object a delete expects to find (an expiry read it a moment before): the delete happens
 * only if the key still holds this ETag and modification time, else `PreconditionFailed` and
 * nothing changes (an overwrite since is a new object, not an expired one).
 */
export interface ExpectedObject {
  readonly etag: string
  readonly lastModified: number
}
