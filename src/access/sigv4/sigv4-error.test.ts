import { describe, expect, it } from 'vitest'
import { isDomainError } from '../../core/index.js'
import { SigV4Error, SigV4Errors } from './sigv4-error.js'

describe('SigV4Error', () => {
  it('is a sigv4 domain error with a stable code', () => {
    const err = SigV4Errors.wrongRegion('eu-west-1', 'us-west-1')
    expect(err).toBeInstanceOf(SigV4Error)
    expect(isDomainError(err, 'sigv4')).toBe(true)
    expect(err.name).toBe('Sigv4Error')
    expect(err.code).toBe('AuthorizationHeaderMalformed')
    expect(err.details).toEqual({ region: 'us-west-1' })
  })

  it('words messages in sentence case without a trailing period', () => {
    const errors = [
      SigV4Errors.wrongRegion('a', 'b'),
      SigV4Errors.missingDate(),
      SigV4Errors.expired('x', 'y'),
      SigV4Errors.signatureDoesNotMatch(),
      SigV4Errors.chunkSignatureDoesNotMatch(2),
      SigV4Errors.incompleteBody('it stopped'),
      SigV4Errors.malformedTrailer('bad'),
      SigV4Errors.invalidContentSha256('x'),
    ]
    for (const err of errors) {
      expect(err.message).toMatch(/^[A-Z]/)
      expect(err.message).not.toMatch(/\.$/)
    }
  })
})
