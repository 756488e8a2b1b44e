import { domainToASCII, domainToUnicode } from 'node:url';
import { parse } from 'tldts';
import { InvalidInput } from '#libs/kernel/errors.js';
import { RecentMap } from '#libs/kernel/recent-map.js';

/**
 * Hostnames that are loopback or unresolvable by definition (RFC 6761): no organisation owns them.
 * Other special-use names (`example.com`, `.test`) stay accepted because tests and demos use them.
 */
const NEVER_AN_ORGANISATION = ['localhost', 'invalid'];

/**
 * The registrable domain ("eTLD+1") that identifies a partner or a customer: `https://EU.Acme.co.uk/x`,
 * `www.acme.co.uk` and `acme.co.uk` all give `acme.co.uk`. The result is lowercase ASCII, so a Unicode
 * spelling and its punycode (`münchen.de`, `xn--mnchen-3ya.de`) are one key: the key ends up in stream
 * ids and SQL, where two spellings of one name would silently break uniqueness.
 *
 * The whole public suffix list is used, private section included (`alice.github.io` and
 * `bob.github.io` are different owners), and an unknown TLD follows the list's default `*` rule.
 * Undefined when there is no registrable domain: IPs, bare public suffixes, single labels, garbage.
 */
export function registrableDomain(input: string): string | undefined {
  if (typeof input !== 'string') return undefined;
  if (input.length > 4096) return computeRegistrableDomain(input);
  // Two suffix-list parses and a UTS #46 mapping cost ~13 µs, a hundredth of a deal registration (profiled);
  // customers and partners come back with the same spellings, so answers are remembered (a pure function).
  const known = remembered.get(input);
  if (known !== undefined) return known === null ? undefined : known;
  const domain = computeRegistrableDomain(input);
  remembered.set(input, domain ?? null);
  return domain;
}

const REMEMBERED_SPELLINGS = 10_000;
/** Spelling → registrable domain (null: none), the most recently answered; at most 4 KiB a spelling. */
const remembered = new RecentMap<string, string | null>(REMEMBERED_SPELLINGS);

function computeRegistrableDomain(input: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed === '' || trimmed.length > 2048) return undefined;

  // First pass only extracts the host (scheme, userinfo, port, path, trailing dot) and spots IPs;
  // the suffix lookup runs on the ASCII form so both IDN spellings hit the same list entries.
  const first = parse(trimmed);
  if (first.isIp || first.hostname === null || first.hostname === '') return undefined;

  // UTS #46 mapping: lowercases, folds full-width forms, turns U-labels into xn-- A-labels; '' if invalid.
  const ascii = domainToASCII(first.hostname);
  if (ascii === '') return undefined;

  const parsed = parse(ascii, { allowPrivateDomains: true });
  if (parsed.isIp || parsed.domain === null || parsed.domain === '') return undefined;
  const domain = parsed.domain;
  if (NEVER_AN_ORGANISATION.some((n) => domain === n || domain.endsWith(`.${n}`))) return undefined;
  return domain;
}

/** The registrable domain, or the one refusal every command and query gives for input that has none. */
export function requireRegistrableDomain(input: string, path: string): string {
  refuseUnsafeSpelling(input, path);
  const domain = registrableDomain(input);
  if (domain === undefined) {
    throw new InvalidInput(`${JSON.stringify(input)} has no registrable domain`, {}, [{ path, message: 'must be a domain name under a public suffix, e.g. acme.co.uk' }]);
  }
  return domain;
}

/**
 * Refuses (400) a domain spelling that must not enter the log (issue #17), with the field's path:
 * - credentials (`http://user:pass@host`, `user@host`): the spelling given is recorded as is, in an immutable log;
 * - a label mixing scripts (`normtest.cоm`, a Cyrillic о among Latin letters), a homograph of another name:
 *   UTS #39's "Highly Restrictive" level, the one browsers use before they show a name in Unicode.
 * Only for new input: names already in the log are still read as they are (`registrableDomain` is unchanged).
 */
export function refuseUnsafeSpelling(input: string, path: string): void {
  const problem = unsafeSpelling(input);
  if (problem !== undefined) throw new InvalidInput(`${JSON.stringify(input)} ${problem}`, {}, [{ path, message: problem }]);
}

/** Why a domain spelling is refused, or undefined when it is not (see `refuseUnsafeSpelling`). */
export function unsafeSpelling(input: string): string | undefined {
  if (typeof input !== 'string') return undefined;
  const trimmed = input.trim();
  const authority = trimmed.replace(/^[A-Za-z][A-Za-z0-9+.-]*:/, '').replace(/^[/\\]*/, '').split(/[/\\?#]/)[0] ?? '';
  if (authority.includes('@')) return 'must not carry a user name or password (user:password@host): give the domain only';
  const host = parse(trimmed).hostname;
  if (host === null || host === '') return undefined;
  const ascii = domainToASCII(host);
  if (ascii === '' || !/(^|\.)xn--/i.test(ascii)) return undefined;
  for (const label of domainToUnicode(ascii).split('.')) {
    if (!singleScriptOrAllowed(label)) return `mixes scripts in the label "${label}" (UTS #39: a look-alike of another name), e.g. Latin with Cyrillic`;
  }
  return undefined;
}

/** Every script a character may be written in (its Script_Extensions), Common and Inherited left out. */
const SCRIPTS = (
  'Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid ' +
  'Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham Cherokee Chorasmian Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari ' +
  'Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi Gurmukhi ' +
  'Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada ' +
  'Katakana Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani ' +
  'Makasar Malayalam Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi ' +
  'Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian ' +
  'Old_Italic Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong Palmyrene ' +
  'Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian Sora_Sompeng ' +
  'Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh ' +
  'Tirhuta Toto Vai Vithkuqi Wancho Warang_Citi Yezidi Yi Zanabazar_Square'
)
  .split(' ')
  .map((name) => ({ name, test: new RegExp(`^\\p{Script_Extensions=${name}}$`, 'u') }));
const COMMON_OR_INHERITED = /^[\p{Script_Extensions=Common}\p{Script_Extensions=Inherited}]$/u;

/** UTS #39 5.2 "Highly Restrictive": one script, or Latin with the scripts written alongside it in CJK. */
const ALLOWED_MIXES: readonly (readonly string[])[] = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
];

function singleScriptOrAllowed(label: string): boolean {
  const sets: string[][] = [];
  for (const ch of label) {
    if (COMMON_OR_INHERITED.test(ch)) continue;
    const scripts = SCRIPTS.filter((s) => s.test.test(ch)).map((s) => s.name);
    // A character of no script this table knows (a newer one, unassigned): not provably single-script.
    if (scripts.length === 0) return false;
    sets.push(scripts);
  }
  if (sets.length === 0) return true;
  // The resolved script set (UTS #39 5.1): the scripts every character shares.
  const shared = sets.reduce((acc, s) => acc.filter((n) => s.includes(n)));
  if (shared.length > 0) return true;
  return ALLOWED_MIXES.some((mix) => sets.every((s) => s.some((n) => mix.includes(n))));
}
