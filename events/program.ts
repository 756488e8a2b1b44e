import type { DomainEventShape } from './envelope.js';

/** One tier's requirements and benefits (DOMAIN.md, "Tier program"). Money is in the reporting currency. */
export interface TierDefinitionData {
  readonly name: string;
  /** Higher is better; the lowest rank is where new partners start. */
  readonly rank: number;
  readonly minSourcedRevenueMinor: number;
  readonly minCertifiedSellers: number;
  readonly minWonDeals: number;
  readonly discountBps: number;
  readonly mdfEligible: boolean;
}

/** A new version of the tier program: policy is data, and each decision names the version it used. */
export type TierProgramDefined = DomainEventShape<
  'TierProgramDefined',
  {
    readonly version: number;
    readonly reportingCurrency: string;
    readonly lookbackDays: number;
    readonly downgradeGraceDays: number;
    readonly protectionDays: number;
    readonly maxExtensionDays: number;
    readonly dealRegistrationDiscountBps: number;
    readonly tiers: readonly TierDefinitionData[];
    /** Deal registration policy (v2); absent in programs defined before it (defaults: 14, 0 = unlimited, none). */
    readonly registrationReviewDays?: number;
    readonly maxOpenRegistrations?: number;
    readonly productFamilies?: Readonly<Record<string, readonly string[]>>;
    readonly definedAt: string;
  }
>;

export type ProgramEvent = TierProgramDefined;
export const PROGRAM_EVENT_TYPES = ['TierProgramDefined'] as const;
export const PROGRAM_STREAM_ID = 'program-tiers';
