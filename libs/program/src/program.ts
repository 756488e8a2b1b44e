import type { TierDefinitionData } from '#events/program.js';
import { InvalidInput } from '#libs/kernel/errors.js';

/** One tier's requirements and benefits (DOMAIN.md, "Tier program"), as `TierProgramDefined` records it. */
export type TierDefinition = TierDefinitionData;

/**
 * Policy as data: each `TierProgramDefined` carries one of these, so every decision can name the version
 * in force when it was recorded.
 */
export interface TierProgram {
  readonly version: number;
  /** ISO 4217. */
  readonly reportingCurrency: string;
  readonly lookbackDays: number;
  readonly downgradeGraceDays: number;
  readonly protectionDays: number;
  readonly maxExtensionDays: number;
  readonly dealRegistrationDiscountBps: number;
  readonly tiers: readonly TierDefinition[];
  // --- Tier program v2 (the tiers helper) ---
  /** Business time from which tier decisions use this version (DOMAIN.md, "Tier program v2"); absent: when defined. */
  readonly effectiveFrom?: string;

  // --- v2 money policy (docs/money.md). Optional: versions defined before v2 carry neither; read them through
  // the helpers below, which supply the DOMAIN.md defaults.
  /** Days after `activityEndsAt` (or the approval) within which an MDF request may be claimed (default 90). */
  readonly mdfClaimDays?: number;
  /** Whether attributions without a deal count toward tier revenue (default true). */
  readonly countUnregisteredRevenue?: boolean;

  // --- deal registration policy (v2, DOMAIN.md "Rules of engagement"): optional, so that programs defined
  // before it keep their meaning; `dealRegistrationPolicy` (libs/deals/src/registration.ts) gives the defaults. ---
  /** A registration still submitted or conflicted this many days after its `registeredAt` expires (default 14). */
  readonly registrationReviewDays?: number;
  /** Active registrations a partner may hold; 0 (the default) is unlimited. */
  readonly maxOpenRegistrations?: number;
  /** Family → product codes: two registrations overlap when they share a product code or a family. */
  readonly productFamilies?: ProductFamilies;
}

export type ProductFamilies = Readonly<Record<string, readonly string[]>>;

const tier = (t: TierDefinition): TierDefinition => Object.freeze(t);

/** Version 0: the program in force until the first `TierProgramDefined`. */
export const DEFAULT_PROGRAM: TierProgram = Object.freeze({
  version: 0,
  reportingCurrency: 'USD',
  lookbackDays: 365,
  downgradeGraceDays: 90,
  protectionDays: 90,
  maxExtensionDays: 60,
  dealRegistrationDiscountBps: 1000,
  tiers: Object.freeze([
    tier({ name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: false }),
    tier({ name: 'Silver', rank: 1, minSourcedRevenueMinor: 10_000_000, minCertifiedSellers: 2, minWonDeals: 0, discountBps: 1500, mdfEligible: true }),
    tier({ name: 'Gold', rank: 2, minSourcedRevenueMinor: 50_000_000, minCertifiedSellers: 5, minWonDeals: 5, discountBps: 2000, mdfEligible: true }),
    tier({ name: 'Platinum', rank: 3, minSourcedRevenueMinor: 200_000_000, minCertifiedSellers: 10, minWonDeals: 15, discountBps: 2500, mdfEligible: true }),
  ]),
});

/** The tier new partners start at. A program without tiers is refused when defined, so this only guards. */
export function lowestTier(program: TierProgram): TierDefinition {
  let lowest: TierDefinition | undefined;
  for (const t of program.tiers) if (lowest === undefined || t.rank < lowest.rank) lowest = t;
  if (lowest === undefined) throw new InvalidInput(`tier program version ${program.version} has no tiers`);
  return lowest;
}

// --- v2 money policy defaults (DOMAIN.md, "MDF as a fund ledger (v2)", "Attribution integrity (v2)").
export const DEFAULT_MDF_CLAIM_DAYS = 90;

export const mdfClaimDaysOf = (program: Pick<TierProgram, 'mdfClaimDays'>): number => program.mdfClaimDays ?? DEFAULT_MDF_CLAIM_DAYS;

export const countsUnregisteredRevenue = (program: Pick<TierProgram, 'countUnregisteredRevenue'>): boolean => program.countUnregisteredRevenue ?? true;
