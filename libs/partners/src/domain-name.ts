import { domainToASCII } from 'node:url';
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
  const domain = registrableDomain(input);
  if (domain === undefined) {
    throw new InvalidInput(`${JSON.stringify(input)} has no registrable domain`, {}, [{ path, message: 'must be a domain name under a public suffix, e.g. acme.co.uk' }]);
  }
  return domain;
}
