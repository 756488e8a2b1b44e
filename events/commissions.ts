import type { CreditType } from './attribution.js';
import type { DomainEventShape } from './envelope.js';
import type { PartnerType } from './partners.js';

/**
 * Commission contracts (DOMAIN.md, "Commissions and payouts (v2)"), plan stream `commission-plan`.
 * The `type` strings and data field names are persisted and read by subscribers: never rename them.
 * Amounts are integer minor units of the program's reporting currency; rates are basis points.
 */
export interface CommissionRuleData {
  /** The partner's tier at `recognizedAt`; absent: any tier. */
  readonly tier?: string;
  /** Absent: any partner type. */
  readonly partnerType?: PartnerType;
  readonly creditType: CreditType;
  /** 0 to 10,000 (100 %). */
  readonly rateBps: number;
}

/** A new version of the commission plan: policy is data, and each accrual names the version it used. */
export type CommissionPlanDefined = DomainEventShape<
  'CommissionPlanDefined',
  {
    readonly version: number;
    /** Days after `recognizedAt` before an accrual is payable. */
    readonly holdDays: number;
    /** Balances below it carry forward to the next payout run. */
    readonly minimumPayoutMinor: number;
    readonly rules: readonly CommissionRuleData[];
    readonly definedAt: string;
  }
>;

export type CommissionPlanEvent = CommissionPlanDefined;
export const COMMISSION_PLAN_EVENT_TYPES = ['CommissionPlanDefined'] as const;
export const COMMISSION_PLAN_STREAM_ID = 'commission-plan';
