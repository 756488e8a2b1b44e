import type { ProgramEvent, TierProgramDefined } from '#events/program.js';
import type { Decider } from '#libs/kernel/decider.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { canonicalEqual } from '#libs/kernel/equality.js';
import { InvalidInput, NamedRuleViolation, RuleViolation, UnknownCertification, type FieldError } from '#libs/kernel/errors.js';
import { isCurrency } from '#libs/money/currency.js';
import { PARTNER_TYPES, type PartnerType } from '#events/partners.js';
import { DEFAULT_PROGRAM, type TierDefinition, type TierProgram } from './program.js';

export type DefineProgram = Omit<TierProgram, 'version'> & {
  /** v2 money: facts of other streams, read by the handler (never recorded in the program). */
  readonly facts?: {
    readonly revenueAttributed: boolean;
    /** Tier program v2: the names in the certification catalog (empty: no catalog yet, any name is accepted). */
    readonly catalog?: readonly string[];
  };
};

/** The program in force after these events: the last one defined, or the default (version 0). */
export function evolveProgram(_state: TierProgram, event: ProgramEvent): TierProgram {
  const { definedAt: _at, ...program } = event.data;
  return program;
}

export function programInForce(events: Iterable<ProgramEvent>): TierProgram {
  let p: TierProgram = DEFAULT_PROGRAM;
  for (const e of events) p = evolveProgram(p, e);
  return p;
}

const DAY_LIMIT = 3660;

/**
 * Defines the next version. Re-sending the program already in force is a no-op, so a PUT can be retried.
 * Tiers must be coherent: unique names and ranks, and each requirement non-decreasing with rank, so that
 * "the highest tier whose every requirement is met" is well defined.
 */
export function decideProgram(given: DefineProgram, current: TierProgram, now: Date): readonly TierProgramDefined[] {
  const errors: FieldError[] = [];
  const command = checkV2(given, errors);
  const intIn = (path: string, v: number, min: number, max: number) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) errors.push({ path, message: `must be an integer from ${min} to ${max}` });
  };
  if (!isCurrency(command.reportingCurrency)) errors.push({ path: 'reportingCurrency', message: 'must be an ISO 4217 currency code' });
  intIn('lookbackDays', command.lookbackDays, 1, DAY_LIMIT);
  intIn('downgradeGraceDays', command.downgradeGraceDays, 0, DAY_LIMIT);
  intIn('protectionDays', command.protectionDays, 1, DAY_LIMIT);
  intIn('maxExtensionDays', command.maxExtensionDays, 0, DAY_LIMIT);
  intIn('dealRegistrationDiscountBps', command.dealRegistrationDiscountBps, 0, 10_000);
  if (command.tiers.length === 0) errors.push({ path: 'tiers', message: 'must define at least one tier' });
  command.tiers.forEach((t, i) => {
    intIn(`tiers.${i}.rank`, t.rank, 0, 100);
    intIn(`tiers.${i}.minSourcedRevenueMinor`, t.minSourcedRevenueMinor, 0, Number.MAX_SAFE_INTEGER);
    intIn(`tiers.${i}.minCertifiedSellers`, t.minCertifiedSellers, 0, 1_000_000);
    intIn(`tiers.${i}.minWonDeals`, t.minWonDeals, 0, 1_000_000);
    intIn(`tiers.${i}.discountBps`, t.discountBps, 0, 10_000);
  });
  // --- deal registration policy (v2) ---
  if (command.registrationReviewDays !== undefined) intIn('registrationReviewDays', command.registrationReviewDays, 1, DAY_LIMIT);
  if (command.maxOpenRegistrations !== undefined) intIn('maxOpenRegistrations', command.maxOpenRegistrations, 0, 1_000_000);
  if (command.productFamilies !== undefined) {
    const familyOf = new Map<string, string>();
    for (const [family, codes] of Object.entries(command.productFamilies)) {
      if (!ID_PATTERN.test(family)) errors.push({ path: `productFamilies.${family}`, message: `family names must match ${ID_PATTERN.source}` });
      if (!Array.isArray(codes) || codes.length === 0 || codes.some((c) => typeof c !== 'string' || !ID_PATTERN.test(c))) {
        errors.push({ path: `productFamilies.${family}`, message: `must list product codes matching ${ID_PATTERN.source}` });
      } else for (const code of codes) {
        const other = familyOf.get(code);
        if (other !== undefined && other !== family) errors.push({ path: `productFamilies.${family}`, message: `${code} is already in family ${other}: a product belongs to one family` });
        familyOf.set(code, family);
      }
    }
  }
  // --- end of deal registration policy ---
  // --- v2 money policy (docs/money.md)
  if (command.mdfClaimDays !== undefined) intIn('mdfClaimDays', command.mdfClaimDays, 1, DAY_LIMIT);
  if (command.countUnregisteredRevenue !== undefined && typeof command.countUnregisteredRevenue !== 'boolean') {
    errors.push({ path: 'countUnregisteredRevenue', message: 'must be a boolean' });
  }
  // --- end v2 money policy
  if (errors.length) throw new InvalidInput('the tier program is not valid', {}, errors);
  // --- v2 money: amounts in two currencies are never summed as one
  if (command.facts?.revenueAttributed === true && command.reportingCurrency !== current.reportingCurrency) {
    throw new NamedRuleViolation(
      'reporting-currency-fixed',
      `revenue is attributed in ${current.reportingCurrency} already: the reporting currency can no longer change`,
      { reportingCurrency: current.reportingCurrency },
      [{ path: 'reportingCurrency', message: `must stay ${current.reportingCurrency}` }],
    );
  }
  // Tier program v2: once the catalog has entries, a tier can only require certifications it names.
  const catalog = new Set(command.facts?.catalog ?? []);
  if (catalog.size > 0) {
    const unknown: FieldError[] = [];
    command.tiers.forEach((t, i) =>
      (t.requiredCertifications ?? []).forEach((r, j) => {
        if (!catalog.has(r.certification)) unknown.push({ path: `tiers.${i}.requiredCertifications.${j}.certification`, message: `${JSON.stringify(r.certification)} is not in the certification catalog` });
      }),
    );
    if (unknown.length) {
      throw new UnknownCertification(`the program requires certifications that are not in the catalog: ${unknown.map((u) => u.message.split(' ')[0]).join(', ')}`, { known: [...catalog].sort() }, unknown);
    }
  }
  // Money reads the reporting currency of the version effective when it records: a change of currency takes effect
  // at once, never from a later date, so that every version effective from now on has the currency of the last one.
  if (command.reportingCurrency !== current.reportingCurrency && command.effectiveFrom !== undefined && Date.parse(command.effectiveFrom) > now.getTime()) {
    throw new NamedRuleViolation(
      'reporting-currency-change-deferred',
      `a new reporting currency (${command.reportingCurrency}) applies at once: define it without a future effectiveFrom`,
      { reportingCurrency: current.reportingCurrency },
      [{ path: 'effectiveFrom', message: 'must not be later than now when reportingCurrency changes' }],
    );
  }
  // --- end v2 money

  const sorted = [...command.tiers].sort((a, b) => a.rank - b.rank);
  const names = new Set(sorted.map((t) => t.name));
  if (names.size !== sorted.length) throw new RuleViolation('tier names must be unique');
  // Tier program v2: each partner type climbs its own ladder, so ranks and coherence hold per track.
  for (const [type, track] of tracksOf(sorted)) {
    const of = type === undefined ? '' : ` in the ${type} track`;
    if (track.length === 0) throw new RuleViolation(`no tier applies to partner type ${type}: every type needs a ladder`);
    if (new Set(track.map((t) => t.rank)).size !== track.length) throw new RuleViolation(`tier ranks must be unique${of}`);
    for (let i = 1; i < track.length; i++) {
      const [lo, hi] = [track[i - 1]!, track[i]!];
      if (hi.minSourcedRevenueMinor < lo.minSourcedRevenueMinor || hi.minCertifiedSellers < lo.minCertifiedSellers || hi.minWonDeals < lo.minWonDeals) {
        throw new RuleViolation(`tier ${hi.name} (rank ${hi.rank}) asks for less than tier ${lo.name} (rank ${lo.rank})${of}: requirements must not decrease with rank`);
      }
    }
  }
  // v2 money: the facts are not policy, and an optional policy field left out is not recorded as undefined.
  const { facts: _facts, mdfClaimDays, countUnregisteredRevenue, effectiveFrom, ...program } = command;
  const next: Omit<TierProgram, 'version'> = {
    ...program,
    tiers: sorted.map((t) => ({ ...t })),
    ...(mdfClaimDays !== undefined ? { mdfClaimDays } : {}),
    ...(countUnregisteredRevenue !== undefined ? { countUnregisteredRevenue } : {}),
  };
  const { version: _v, effectiveFrom: currentFrom, ...inForce } = current;
  // Re-sending the program in force is a no-op; one naming another effectiveFrom is a new version.
  if (current.version > 0 && canonicalEqual(inForce, next) && (effectiveFrom === undefined || effectiveFrom === currentFrom)) return [];
  return [{ type: 'TierProgramDefined', data: { version: current.version + 1, ...next, definedAt: now.toISOString(), effectiveFrom: effectiveFrom ?? now.toISOString() } }];
}

// --- Tier program v2 (the tiers helper): effectiveFrom, tracks per partner type, required certifications ---

/** The ladders of a program: one per partner type when any tier names types, else one for all (key undefined). */
function tracksOf(sorted: readonly TierDefinition[]): Map<PartnerType | undefined, TierDefinition[]> {
  const tracks = new Map<PartnerType | undefined, TierDefinition[]>();
  if (!sorted.some((t) => t.partnerTypes !== undefined)) return tracks.set(undefined, [...sorted]);
  for (const type of PARTNER_TYPES) tracks.set(type, sorted.filter((t) => t.partnerTypes === undefined || t.partnerTypes.includes(type)));
  return tracks;
}

function checkV2(command: DefineProgram, errors: FieldError[]): DefineProgram {
  let effectiveFrom: string | undefined;
  if (command.effectiveFrom !== undefined) {
    const t = typeof command.effectiveFrom === 'string' && ISO_TIME.test(command.effectiveFrom) ? Date.parse(command.effectiveFrom) : NaN;
    if (Number.isNaN(t)) errors.push({ path: 'effectiveFrom', message: 'must be an ISO 8601 date or UTC date-time' });
    else effectiveFrom = new Date(t).toISOString();
  }
  command.tiers.forEach((t, i) => {
    if (t.partnerTypes !== undefined) {
      if (!Array.isArray(t.partnerTypes) || t.partnerTypes.length === 0 || t.partnerTypes.some((p) => !PARTNER_TYPES.includes(p)) || new Set(t.partnerTypes).size !== t.partnerTypes.length) {
        errors.push({ path: `tiers.${i}.partnerTypes`, message: `must be a non-empty list of distinct partner types (${PARTNER_TYPES.join(', ')})` });
      }
    }
    (t.requiredCertifications ?? []).forEach((r, j) => {
      if (typeof r.certification !== 'string' || r.certification.trim() === '' || r.certification.length > 500) errors.push({ path: `tiers.${i}.requiredCertifications.${j}.certification`, message: 'must be a non-empty name' });
      if (!Number.isSafeInteger(r.minSellers) || r.minSellers < 1 || r.minSellers > 1_000_000) errors.push({ path: `tiers.${i}.requiredCertifications.${j}.minSellers`, message: 'must be an integer from 1 to 1000000' });
    });
    if (t.requiredCertifications && new Set(t.requiredCertifications.map((r) => r.certification)).size !== t.requiredCertifications.length) {
      errors.push({ path: `tiers.${i}.requiredCertifications`, message: 'names each certification once' });
    }
  });
  const tiers = command.tiers.map(({ partnerTypes, requiredCertifications, ...t }) => ({
    ...t,
    ...(partnerTypes !== undefined ? { partnerTypes: [...partnerTypes].sort() } : {}),
    ...(requiredCertifications !== undefined && requiredCertifications.length > 0 ? { requiredCertifications: requiredCertifications.map((r) => ({ certification: r.certification, minSellers: r.minSellers })) } : {}),
  }));
  const { effectiveFrom: _given, ...rest } = command;
  return { ...rest, tiers, ...(effectiveFrom !== undefined ? { effectiveFrom } : {}) };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z)?$/;

export const programDecider: Decider<DefineProgram, TierProgram, ProgramEvent> = {
  initialState: () => DEFAULT_PROGRAM,
  evolve: evolveProgram,
  decide: decideProgram,
};
