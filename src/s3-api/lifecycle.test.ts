import { describe, expect, it } from 'vitest'
import { lifecycleXml, parseLifecycleXml } from './lifecycle.js'
import { renderXml } from './xml/render.js'

const doc = (rules: string) =>
  Buffer.from(`<LifecycleConfiguration>${rules}</LifecycleConfiguration>`)
const rule = (inner: string) => `<Rule>${inner}</Rule>`
const expire = '<Expiration><Days>1</Days></Expiration>'
const parse = (body: Buffer, minimum?: string) => parseLifecycleXml(body, minimum)

describe('parseLifecycleXml()', () => {
  it('reads every filter form, action and the legacy prefix', () => {
    const config = parse(
      doc(
        [
          rule(`<ID>legacy</ID><Prefix>logs/</Prefix><Status>Enabled</Status>${expire}`),
          rule(`<ID>empty</ID><Filter/><Status>Disabled</Status>${expire}`),
          rule(
            '<ID>tag</ID><Filter><Tag><Key>class</Key><Value>tmp</Value></Tag></Filter><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>',
          ),
          rule(
            '<ID>big</ID><Filter><ObjectSizeGreaterThan>1024</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>',
          ),
          rule(
            '<ID>and</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>5</Days></Expiration>',
          ),
          rule(
            '<ID>mpu</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
          ),
        ].join(''),
      ),
    )
    expect(config.transitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K')
    const [legacy, empty, tag, big, and, mpu] = config.rules
    expect(legacy).toMatchObject({
      id: 'legacy',
      status: 'Enabled',
      filter: { form: 'legacy-prefix', prefix: 'logs/' },
      expiration: { days: 1, date: null, expiredObjectDeleteMarker: null },
    })
    expect(empty?.filter).toMatchObject({ form: 'empty', prefix: null, tags: [] })
    expect(empty?.status).toBe('Disabled')
    expect(tag?.filter.tags).toEqual([{ key: 'class', value: 'tmp' }])
    expect(tag?.expiration?.date).toBe('2030-01-01T00:00:00.000Z')
    expect(big?.filter).toMatchObject({ form: 'size-greater-than', objectSizeGreaterThan: 1024 })
    expect(big?.noncurrentVersionExpiration).toEqual({
      noncurrentDays: 3,
      newerNoncurrentVersions: 2,
    })
    expect(and?.filter).toEqual({
      form: 'and',
      prefix: 'a/',
      tags: [{ key: 'k', value: 'v' }],
      objectSizeGreaterThan: null,
      objectSizeLessThan: 10,
    })
    expect(and?.expiration?.days).toBe(5)
    expect(big?.expiration?.expiredObjectDeleteMarker).toBe(true)
    expect(mpu?.abortIncompleteMultipartUploadDays).toBe(7)
  })

  it('gives a rule without an ID one of its own, and keeps the header it was given', () => {
    const config = parse(
      doc(rule(`<Filter><Prefix></Prefix></Filter><Status>Enabled</Status>${expire}`)),
      'varies_by_storage_class',
    )
    expect(config.rules[0]?.id).toMatch(/^[A-Za-z0-9+/=]{20,}$/)
    expect(config.rules[0]?.filter).toMatchObject({ form: 'prefix', prefix: '' })
    expect(config.transitionDefaultMinimumObjectSize).toBe('varies_by_storage_class')
  })

  it.each([
    [
      'Date with a day only is midnight',
      '<Expiration><Date>2031-02-03</Date></Expiration>',
      '2031-02-03T00:00:00.000Z',
    ],
    [
      'Date with an offset that lands on midnight UTC',
      '<Expiration><Date>2031-02-03T02:00:00+02:00</Date></Expiration>',
      '2031-02-03T00:00:00.000Z',
    ],
    [
      'Date with milliseconds',
      '<Expiration><Date>2031-02-03T00:00:00.000Z</Date></Expiration>',
      '2031-02-03T00:00:00.000Z',
    ],
  ])('%s', (_name, expiration, date) => {
    const config = parse(doc(rule(`<Filter/><Status>Enabled</Status>${expiration}`)))
    expect(config.rules[0]?.expiration?.date).toBe(date)
  })

  const refused: Array<[string, string, string, string?]> = [
    ['not XML', 'MalformedXML', '<LifecycleConfiguration><Rule>'],
    ['another root', 'MalformedXML', '<Lifecycle><Rule/></Lifecycle>'],
    ['no rules', 'MalformedXML', '<LifecycleConfiguration></LifecycleConfiguration>'],
    [
      'an unknown element in the root',
      'MalformedXML',
      '<LifecycleConfiguration><Foo/></LifecycleConfiguration>',
    ],
    [
      'a bad Status',
      'MalformedXML',
      doc(rule(`<Filter/><Status>enabled</Status>${expire}`)).toString(),
    ],
    ['no Status', 'MalformedXML', doc(rule(`<Filter/>${expire}`)).toString()],
    [
      'an ID of 256 characters',
      'InvalidArgument',
      doc(rule(`<ID>${'a'.repeat(256)}</ID><Filter/><Status>Enabled</Status>${expire}`)).toString(),
      'ID length should not exceed allowed limit of 255',
    ],
    [
      'the same ID twice',
      'InvalidArgument',
      doc(
        rule(`<ID>r</ID><Filter/><Status>Enabled</Status>${expire}`) +
          rule(`<ID>r</ID><Filter/><Status>Disabled</Status>${expire}`),
      ).toString(),
      'Rule ID must be unique. Found same ID for more than one rule',
    ],
    [
      'neither Filter nor Prefix',
      'MalformedXML',
      doc(rule(`<Status>Enabled</Status>${expire}`)).toString(),
    ],
    [
      'both Filter and Prefix',
      'MalformedXML',
      doc(rule(`<Prefix>a</Prefix><Filter/><Status>Enabled</Status>${expire}`)).toString(),
    ],
    [
      'two predicates in one Filter',
      'MalformedXML',
      doc(
        rule(
          `<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status>${expire}`,
        ),
      ).toString(),
    ],
    [
      'an empty And',
      'MalformedXML',
      doc(rule(`<Filter><And/></Filter><Status>Enabled</Status>${expire}`)).toString(),
    ],
    [
      'a Tag without a Key',
      'MalformedXML',
      doc(
        rule(`<Filter><Tag><Value>v</Value></Tag></Filter><Status>Enabled</Status>${expire}`),
      ).toString(),
    ],
    [
      'the same tag key twice in And',
      'InvalidRequest',
      doc(
        rule(
          `<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status>${expire}`,
        ),
      ).toString(),
      'Duplicate Tag Keys are not allowed.',
    ],
    [
      'size bounds that leave nothing',
      'InvalidArgument',
      doc(
        rule(
          `<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>${expire}`,
        ),
      ).toString(),
      "'ObjectSizeGreaterThan' must be less than 'ObjectSizeLessThan'",
    ],
    [
      'ObjectSizeLessThan 0',
      'InvalidArgument',
      doc(
        rule(
          `<Filter><ObjectSizeLessThan>0</ObjectSizeLessThan></Filter><Status>Enabled</Status>${expire}`,
        ),
      ).toString(),
      "'ObjectSizeLessThan' must be a positive integer",
    ],
    [
      'a size that is not a number',
      'MalformedXML',
      doc(
        rule(
          `<Filter><ObjectSizeLessThan>big</ObjectSizeLessThan></Filter><Status>Enabled</Status>${expire}`,
        ),
      ).toString(),
    ],
    [
      'no action',
      'InvalidRequest',
      doc(rule('<Filter/><Status>Enabled</Status>')).toString(),
      'At least one action needs to be specified in a rule',
    ],
    [
      'Days 0',
      'InvalidArgument',
      doc(
        rule('<Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>'),
      ).toString(),
      "'Days' for Expiration action must be a positive integer",
    ],
    [
      'Days -3',
      'InvalidArgument',
      doc(
        rule('<Filter/><Status>Enabled</Status><Expiration><Days>-3</Days></Expiration>'),
      ).toString(),
      "'Days' for Expiration action must be a positive integer",
    ],
    [
      'Days and Date',
      'MalformedXML',
      doc(
        rule(
          '<Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>',
        ),
      ).toString(),
    ],
    [
      'Days and ExpiredObjectDeleteMarker',
      'MalformedXML',
      doc(
        rule(
          '<Filter/><Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>',
        ),
      ).toString(),
    ],
    [
      'an empty Expiration',
      'MalformedXML',
      doc(rule('<Filter/><Status>Enabled</Status><Expiration/>')).toString(),
    ],
    [
      'a Date that is not midnight UTC',
      'InvalidArgument',
      doc(
        rule(
          '<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>',
        ),
      ).toString(),
      "'Date' must be at midnight GMT",
    ],
    [
      'a midnight in another zone',
      'InvalidArgument',
      doc(
        rule(
          '<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00+01:00</Date></Expiration>',
        ),
      ).toString(),
      "'Date' must be at midnight GMT",
    ],
    [
      'a Date that is not a date',
      'MalformedXML',
      doc(
        rule('<Filter/><Status>Enabled</Status><Expiration><Date>tomorrow</Date></Expiration>'),
      ).toString(),
    ],
    [
      'NoncurrentDays 0',
      'InvalidArgument',
      doc(
        rule(
          '<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>',
        ),
      ).toString(),
      "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
    ],
    [
      'DaysAfterInitiation 0',
      'InvalidArgument',
      doc(
        rule(
          '<Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
        ),
      ).toString(),
      "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
    ],
    [
      'AbortIncompleteMultipartUpload with a tag filter',
      'InvalidRequest',
      doc(
        rule(
          '<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
        ),
      ).toString(),
    ],
    [
      'a Transition (no storage classes)',
      'NotImplemented',
      doc(
        rule(
          `<Filter/><Status>Enabled</Status>${expire}<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`,
        ),
      ).toString(),
    ],
    [
      'a NoncurrentVersionTransition',
      'NotImplemented',
      doc(
        rule(
          '<Filter/><Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>3</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>',
        ),
      ).toString(),
    ],
    [
      'an unknown element in a rule',
      'MalformedXML',
      doc(rule(`<Filter/><Status>Enabled</Status><Foo/>${expire}`)).toString(),
    ],
    [
      'an entity declaration',
      'MalformedXML',
      '<!DOCTYPE x [<!ENTITY a "b">]><LifecycleConfiguration/>',
    ],
  ]
  it.each(refused)('refuses %s with %s', (_name, code, body, message) => {
    let thrown: unknown
    try {
      parse(Buffer.from(body))
    } catch (err) {
      thrown = err
    }
    expect(thrown).toMatchObject({ code })
    if (message !== undefined) expect((thrown as Error).message).toBe(message)
  })

  it('refuses more than 1000 rules and an unknown transition minimum', () => {
    const many = Array.from({ length: 1001 }, (_, i) =>
      rule(`<ID>r${i}</ID><Filter/><Status>Enabled</Status>${expire}`),
    ).join('')
    expect(() => parse(doc(many))).toThrow(expect.objectContaining({ code: 'MalformedXML' }))
    const ok = doc(rule(`<Filter/><Status>Enabled</Status>${expire}`))
    expect(() => parse(ok, 'all_storage_classes_64K')).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' }),
    )
  })
})

describe('lifecycleXml()', () => {
  it('answers the shape the client sent', () => {
    const body = doc(
      rule(`<ID>legacy</ID><Prefix>logs/</Prefix><Status>Enabled</Status>${expire}`) +
        rule(
          '<ID>and</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>',
        ) +
        rule(`<ID>empty</ID><Filter></Filter><Status>Enabled</Status>${expire}`) +
        rule(
          '<ID>mpu</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload><NoncurrentVersionExpiration><NoncurrentDays>4</NoncurrentDays></NoncurrentVersionExpiration>',
        ),
    )
    const xml = renderXml('LifecycleConfiguration', lifecycleXml(parse(body)))
    expect(xml).toContain(
      '<Rule><Expiration><Days>1</Days></Expiration><ID>legacy</ID><Prefix>logs/</Prefix><Status>Enabled</Status></Rule>',
    )
    expect(xml).toContain(
      '<Rule><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration><ID>and</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Disabled</Status></Rule>',
    )
    expect(xml).toContain('<ID>empty</ID><Filter></Filter><Status>Enabled</Status>')
    expect(xml).toContain(
      '<ID>mpu</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>4</NoncurrentDays></NoncurrentVersionExpiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>',
    )
  })
})
