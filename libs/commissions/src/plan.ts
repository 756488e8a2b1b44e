import type { CreditType } from '#events/attribution.js';
import type { CommissionPlanDefined, CommissionPlanEvent, CommissionRuleData } from '#events/commissions.js';
import { CREDIT_TYPES } from '#events/attribution.js';
import { PARTNER_TYPES, type PartnerType } from '#events/partners.js';
import type { Decider } from '#libs/kernel/decider.js';
import { canonicalEqual } from '#libs/kernel/equality.js';
import { InvalidInput, type FieldError } from '#libs/kernel/errors.js';

/** The commission plan in force (DOMAIN.md, "Commissions and payouts (v2)"); version 0 is the default: no rules. */
export interface CommissionPlan {
  readonly version: number;
  readonly holdDays: number;
  readonly minimumPayoutMinor: number;
  readonly rules: readonly CommissionRuleData[];
}

export const DEFAULT_COMMISSION_PLAN: CommissionPlan = { version: 0, holdDays: 30, minimumPayoutMinor: 0, rules: [] };

export interface DefineCommissionPlan {
  readonly holdDays?: number;
  readonly minimumPayoutMinor?: number;
  readonly rules: readonly CommissionRuleData[];
}

export function evolveCommissionPlan(_state: CommissionPlan, event: CommissionPlanEvent): CommissionPlan {
  const { definedAt: _at, ...plan } = event.data;
  return plan;
}

const DAY_LIMIT = 3660;

/**
 * Defines the next version. Rules are kept in a canonical order (tier, partner type, credit type) and two
 * rules for the same (tier, partnerType, creditType) are refused: "the most specific rule wins" must name
 * one rule. Re-sending the plan in force is a no-op, so a PUT can be retried.
 */
export function decideCommissionPlan(command: DefineCommissionPlan, current: CommissionPlan, now: Date): readonly CommissionPlanDefined[] {
  const errors: FieldError[] = [];
  const holdDays = command.holdDays ?? DEFAULT_COMMISSION_PLAN.holdDays;
  const minimumPayoutMinor = command.minimumPayoutMinor ?? DEFAULT_COMMISSION_PLAN.minimumPayoutMinor;
  if (!Number.isSafeInteger(holdDays) || holdDays < 0 || holdDays > DAY_LIMIT) errors.push({ path: 'holdDays', message: `must be an integer from 0 to ${DAY_LIMIT}` });
  if (!Number.isSafeInteger(minimumPayoutMinor) || minimumPayoutMinor < 0) errors.push({ path: 'minimumPayoutMinor', message: `must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}` });
  if (!Array.isArray(command.rules)) errors.push({ path: 'rules', message: 'must be a list of rules' });
  const rules: CommissionRuleData[] = [];
  const seen = new Set<string>();
  (Array.isArray(command.rules) ? command.rules : []).forEach((r, i) => {
    const at = `rules.${i}`;
    if (r === null || typeof r !== 'object') return void errors.push({ path: at, message: 'must be a rule' });
    if (r.tier !== undefined && (typeof r.tier !== 'string' || r.tier.trim() === '' || r.tier.length > 200)) errors.push({ path: `${at}.tier`, message: 'must be a tier name' });
    if (r.partnerType !== undefined && !PARTNER_TYPES.includes(r.partnerType)) errors.push({ path: `${at}.partnerType`, message: `must be one of ${PARTNER_TYPES.join(', ')}` });
    if (!CREDIT_TYPES.includes(r.creditType)) errors.push({ path: `${at}.creditType`, message: `must be one of ${CREDIT_TYPES.join(', ')}` });
    if (!Number.isSafeInteger(r.rateBps) || r.rateBps < 0 || r.rateBps > 10_000) errors.push({ path: `${at}.rateBps`, message: 'must be an integer from 0 to 10000 (basis points)' });
    const key = ruleKey(r);
    if (seen.has(key)) errors.push({ path: at, message: 'another rule has the same tier, partner type and credit type' });
    seen.add(key);
    rules.push({
      ...(r.tier !== undefined ? { tier: r.tier } : {}),
      ...(r.partnerType !== undefined ? { partnerType: r.partnerType } : {}),
      creditType: r.creditType,
      rateBps: r.rateBps,
    });
  });
  if (errors.length) throw new InvalidInput('the commission plan is not valid', {}, errors);
  rules.sort((a, b) => (ruleKey(a) < ruleKey(b) ? -1 : ruleKey(a) > ruleKey(b) ? 1 : 0));
  const next = { holdDays, minimumPayoutMinor, rules };
  const { version: _v, ...inForce } = current;
  if (current.version > 0 && canonicalEqual(inForce, next)) return [];
  return [{ type: 'CommissionPlanDefined', data: { version: current.version + 1, ...next, definedAt: now.toISOString() } }];
}

function ruleKey(r: CommissionRuleData): string {
  return JSON.stringify([r.tier ?? '', r.partnerType ?? '', r.creditType]);
}

export const commissionPlanDecider: Decider<DefineCommissionPlan, CommissionPlan, CommissionPlanEvent> = {
  initialState: () => DEFAULT_COMMISSION_PLAN,
  evolve: evolveCommissionPlan,
  decide: decideCommissionPlan,
};

/**
 * The rule for one allocation: the most specific matching rule wins (tier + partner type, then tier, then
 * partner type, then neither); undefined when no rule matches (the accrual is 0).
 */
export function ruleFor(plan: CommissionPlan, tier: string, partnerType: PartnerType, creditType: CreditType): CommissionRuleData | undefined {
  const matching = plan.rules.filter(
    (r) => r.creditType === creditType && (r.tier === undefined || r.tier === tier) && (r.partnerType === undefined || r.partnerType === partnerType),
  );
  const specificity = (r: CommissionRuleData) => (r.tier !== undefined ? 2 : 0) + (r.partnerType !== undefined ? 1 : 0);
  let best: CommissionRuleData | undefined;
  for (const r of matching) if (best === undefined || specificity(r) > specificity(best)) best = r;
  return best;
}

/**
 * `round(baseMinor × rateBps / 10,000)`, exactly (bigint), rounding half away from zero: 0.5 minor units
 * round up for an accrual and down (more negative) for a negative base. The base is a safe integer.
 */
export function commissionMinor(baseMinor: number, rateBps: number): number {
  if (!Number.isSafeInteger(baseMinor)) throw new RangeError('the base must be a safe integer of minor units');
  if (!Number.isSafeInteger(rateBps) || rateBps < 0 || rateBps > 10_000) throw new RangeError('the rate must be 0 to 10000 basis points');
  const negative = baseMinor < 0;
  const n = BigInt(Math.abs(baseMinor)) * BigInt(rateBps);
  const q = (n + 5_000n) / 10_000n;
  return Number(negative ? -q : q);
}

/**
 * The part of an accrual a reversal claws back: in proportion to the reversed part of the allocation's
 * reporting amount, `round(accrued × reversed / allocated)` half up, never more than what remains accrued.
 */
export function clawbackMinor(accruedMinor: number, remainingAccruedMinor: number, reversedMinor: number, allocatedMinor: number): number {
  for (const [name, v] of [['accrued', accruedMinor], ['remaining', remainingAccruedMinor], ['reversed', reversedMinor], ['allocated', allocatedMinor]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative safe integer`);
  }
  if (allocatedMinor === 0) return 0;
  const q = (2n * BigInt(accruedMinor) * BigInt(reversedMinor) + BigInt(allocatedMinor)) / (2n * BigInt(allocatedMinor));
  return Math.min(Number(q), remainingAccruedMinor);
}

/** When an accrual recognized at `recognizedAt` becomes payable under a hold of `holdDays` days. */
export function payableFrom(recognizedAt: string, holdDays: number): string {
  return new Date(Date.parse(recognizedAt) + holdDays * 86_400_000).toISOString();
}
