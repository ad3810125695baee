// What the server refuses in a registration, checked on the phone before it is saved: a record the
// server refuses is set aside after the worker has left the place. The same rules as
// server/schemas/validators.py and common.Past; tests/browser/test_register_checks.py holds each to
// its server twin over a table of examples.
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';
// Python's \s and str.strip() (str.isspace), which JavaScript's \s and trim() do not quite match.
const SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const BLANK_ENDS = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, 'g');
const BLANKS_OR_DASHES = new RegExp(`[${SPACE}-]`, 'g');

/** Text as typed, full-width digits and letters (a Chinese keyboard's) made ASCII and the blanks
 *  around it dropped: what the form checks and saves. The rules below take ASCII digits only, where
 *  Python's \d takes any digit; made plain, nothing typed here is refused that the server takes. */
export const plain = (value) => String(value ?? '').normalize('NFKC').replace(BLANK_ENDS, '');

const isLeap = (y) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
// Python's date(y, m, d): years 1 to 9999 of the proleptic Gregorian calendar.
const isDay = (y, m, d) => y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= DAYS[m - 1] + (m === 2 && isLeap(y) ? 1 : 0);

/** id_number_problem(): why an 18-character resident ID number (GB 11643) is invalid, or null. */
export function idNumberProblem(value) {
  const v = String(value).replace(BLANK_ENDS, '').toUpperCase();
  if (!/^[0-9]{17}[0-9X]$/.test(v)) return '身份证号码应为 18 位（末位可为 X）';
  if (!isDay(Number(v.slice(6, 10)), Number(v.slice(10, 12)), Number(v.slice(12, 14)))) return '身份证号码中的出生日期无效';
  const total = ID_WEIGHTS.reduce((sum, w, i) => sum + w * Number(v[i]), 0);
  return ID_CHECK[total % 11] === v[17] ? null : '身份证号码校验位不正确';
}

/** masking.mask_id_number() of a valid ID number: its region code and last four digits, as the
 *  server shows it (430621********1234); the phone keeps no full number once it is sent. */
export const maskIdNumber = (value) => `${value.slice(0, 6)}${'*'.repeat(value.length - 10)}${value.slice(-4)}`;

/** registry._check_birth_against_id(): a valid ID number holds the birth date (its 7th to 14th
 *  digits), and a valid birth date given with it must be that one; null otherwise. */
export function birthAgainstIdProblem(idNumber, birthDate) {
  const id = plain(idNumber || '').toUpperCase();
  if (!id || !birthDate || idNumberProblem(id) || birthDateProblem(birthDate)) return null;
  const [y, mo, d] = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})/.exec(birthDate).slice(1);
  const day = `${y}${mo.padStart(2, '0')}${d.padStart(2, '0')}`;
  return id.slice(6, 14) === day ? null : BIRTH_NOT_AS_ID;
}
export const BIRTH_NOT_AS_ID = '出生日期与身份证号码中的出生日期不一致';

/** validate_phone(): an 11-digit mobile number (+86 allowed) or a landline with its area code. */
export function phoneProblem(value) {
  const digits = String(value).replace(BLANKS_OR_DASHES, '');
  return /^(?:(?:\+?86)?1[3-9][0-9]{9}|0[0-9]{2,3}[0-9]{7,8})$/.test(digits) ? null : '电话号码格式不正确';
}

/** common.Past() on marshmallow's Date: a day that has come (a birth date, a staff check's date),
 *  YYYY-MM-DD, from 1900 to today anywhere on earth. */
export function birthDateProblem(value) {
  const m = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\n?$/.exec(String(value));
  const [y, mo, d] = m ? m.slice(1).map(Number) : [];
  if (!m || !isDay(y, mo, d)) return '日期格式应为 YYYY-MM-DD';
  const day = [String(y).padStart(4, '0'), String(mo).padStart(2, '0'), String(d).padStart(2, '0')].join('-');
  const latest = new Date(Date.now() + 14 * 3600e3).toISOString().slice(0, 10);
  return day < '1900-01-01' || day > latest ? '日期应在 1900 年到今天之间' : null;
}
