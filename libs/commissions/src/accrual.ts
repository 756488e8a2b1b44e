import type { AttributionAllocation } from '#events/attribution.js';
import type { CommissionRuleData } from '#events/commissions.js';
import type { PartnerType } from '#events/partners.js';
import { commissionMinor, payableFrom, ruleFor, type CommissionPlan } from './plan.js';

/** What the accrual rule needs to know of a credited partner: its type and its tier at `recognizedAt`. */
export interface PartnerCommissionFacts {
  readonly partnerType: PartnerType;
  readonly tier: string;
}

/** One allocation's accrual (the data a `CommissionAccrued` event will carry once accruals are appended). */
export interface AccrualLine {
  readonly partnerId: string;
  readonly creditType: AttributionAllocation['type'];
  /** The allocation's amount in the reporting currency. */
  readonly baseMinor: number;
  readonly rateBps: number;
  readonly amountMinor: number;
  readonly payableFrom: string;
  readonly planVersion: number;
  /** The rule that applied. */
  readonly rule: CommissionRuleData;
}

/**
 * The accruals of one attribution (DOMAIN.md, "Commissions and payouts (v2)"): one line per allocation whose
 * rule gives a non-zero amount, in the allocations' order; partners without facts or a matching rule earn nothing.
 */
export function accrualsFor(
  allocations: readonly AttributionAllocation[],
  recognizedAt: string,
  plan: CommissionPlan,
  partners: ReadonlyMap<string, PartnerCommissionFacts>,
): AccrualLine[] {
  const lines: AccrualLine[] = [];
  for (const a of allocations) {
    const facts = partners.get(a.partnerId);
    if (facts === undefined) continue;
    const rule = ruleFor(plan, facts.tier, facts.partnerType, a.type);
    if (rule === undefined) continue;
    const baseMinor = a.reportingAmountMinor ?? a.amountMinor;
    const amountMinor = commissionMinor(baseMinor, rule.rateBps);
    if (amountMinor === 0) continue;
    lines.push({ partnerId: a.partnerId, creditType: a.type, baseMinor, rateBps: rule.rateBps, amountMinor, payableFrom: payableFrom(recognizedAt, plan.holdDays), planVersion: plan.version, rule });
  }
  return lines;
}
