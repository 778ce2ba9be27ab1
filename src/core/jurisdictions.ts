/**
 * The jurisdictions a data center may name: every officially assigned ISO 3166-1 alpha-2 code
 * (249 codes). Reserved and user-assigned codes (`EU`, `UN`, `XK`, `AA`, `QM`–`QZ`, `XA`–`XZ`,
 * `ZZ`) are refused: a jurisdiction is the country or territory whose law governs the data, and
 * rule packs are keyed by these codes.
 */
const ISO_3166_1_ALPHA_2 =
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ ' +
  'BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ ' +
  'DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
  'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY ' +
  'HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP ' +
  'KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY ' +
  'MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ ' +
  'NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA ' +
  'RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ ' +
  'TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ ' +
  'VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'

/** Every known jurisdiction code, sorted. */
export const JURISDICTIONS: readonly string[] = Object.freeze(ISO_3166_1_ALPHA_2.split(' '))

const KNOWN = new Set(JURISDICTIONS)

/** True when `code` is an assigned ISO 3166-1 alpha-2 code (upper-case, as stored). */
export function isKnownJurisdiction(code: string): boolean {
  return KNOWN.has(code)
}

/** Data center ids: lower-case region-like names such as `us-west-1` or `cn-hangzhou`. */
export const DATA_CENTER_ID_PATTERN = /^[a-z]{2}(-[a-z0-9]+)+$/

/** Longest data center id (it appears in host names and folder names). */
export const DATA_CENTER_ID_MAX_LENGTH = 63
