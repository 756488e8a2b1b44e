import type { DomainEventShape } from './envelope.js';
import type { PartnerType } from './partners.js';

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

  // --- Tier program v2 (tracks and certifications): absent on tiers defined before it. ---
  /** The partner types whose ladder this tier belongs to; absent: every type (DOMAIN.md, "Tier program v2"). */
  readonly partnerTypes?: readonly PartnerType[];
  /** Named certifications the tier requires, each held by at least `minSellers` certified sellers. */
  readonly requiredCertifications?: readonly RequiredCertificationData[];
}

export interface RequiredCertificationData {
  readonly certification: string;
  readonly minSellers: number;
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
    // --- Tier program v2 ---
    /** Business time from which this version applies to tier decisions; absent (older events): `definedAt`. */
    readonly effectiveFrom?: string;
  }
>;

export type ProgramEvent = TierProgramDefined;
export const PROGRAM_EVENT_TYPES = ['TierProgramDefined'] as const;
export const PROGRAM_STREAM_ID = 'program-tiers';
