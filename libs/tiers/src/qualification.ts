import type { PartnerType } from '#events/partners.js';
import type { TierDefinition, TierProgram } from '#libs/program/program.js';

const DAY_MS = 86_400_000;

/** What a partner brings to an evaluation, measured over the program's window ending `asOf`. */
export interface TierInputs {
  /** Net partner-sourced revenue in the reporting currency: sourced allocations minus sourced reversals. */
  readonly netSourcedRevenueMinor: number;
  /** Set only when the sum is beyond ±(2^53 − 1) (a store written before amount-out-of-range): its exact decimal; `netSourcedRevenueMinor` is then clamped. */
  readonly netSourcedRevenueExact?: string;
  readonly certifiedSellers: number;
  readonly wonDeals: number;
  /** Sellers holding each named certification in force at `asOf` (absent: none counted by name). */
  readonly certifications?: Readonly<Record<string, number>>;
}

export interface Window {
  readonly from: Date;
  readonly to: Date;
}

/** DOMAIN.md: the window is `[asOf - lookbackDays, asOf]`, both ends included. */
export function windowEnding(asOf: Date, program: Pick<TierProgram, 'lookbackDays'>): Window {
  return { from: new Date(asOf.getTime() - program.lookbackDays * DAY_MS), to: asOf };
}

export function inWindow(at: string, w: Window): boolean {
  const t = Date.parse(at);
  return t >= w.from.getTime() && t <= w.to.getTime();
}

/**
 * The ladder a partner climbs, lowest first: the tiers for its type (DOMAIN.md, "Tier program v2": a tier without
 * `partnerTypes` is on every ladder). Without a type, every tier.
 */
export function tiersByRank(program: Pick<TierProgram, 'tiers'>, type?: PartnerType): readonly TierDefinition[] {
  const track = type === undefined ? program.tiers : program.tiers.filter((t) => t.partnerTypes === undefined || t.partnerTypes.includes(type));
  return [...track].sort((a, b) => a.rank - b.rank);
}

/** The tier new partners of this type start at. */
export function lowestTierFor(program: Pick<TierProgram, 'tiers'>, type?: PartnerType): TierDefinition | undefined {
  return tiersByRank(program, type)[0];
}

export interface MissingCertification {
  readonly certification: string;
  readonly minSellers: number;
  /** Certified sellers still missing for it. */
  readonly missingSellers: number;
}

export function missingCertifications(t: TierDefinition, i: TierInputs): MissingCertification[] {
  const out: MissingCertification[] = [];
  for (const r of t.requiredCertifications ?? []) {
    const held = i.certifications?.[r.certification] ?? 0;
    if (held < r.minSellers) out.push({ certification: r.certification, minSellers: r.minSellers, missingSellers: r.minSellers - held });
  }
  return out;
}

export function meets(t: TierDefinition, i: TierInputs): boolean {
  return i.netSourcedRevenueMinor >= t.minSourcedRevenueMinor && i.certifiedSellers >= t.minCertifiedSellers && i.wonDeals >= t.minWonDeals && missingCertifications(t, i).length === 0;
}

/** The highest tier of the partner's ladder whose every requirement is met; the lowest tier when none is. */
export function qualifyingTier(program: Pick<TierProgram, 'tiers'>, inputs: TierInputs, type?: PartnerType): TierDefinition {
  const ranked = tiersByRank(program, type);
  let best = ranked[0]!;
  for (const t of ranked) if (meets(t, inputs)) best = t;
  return best;
}

export interface Shortfall {
  readonly revenueMinor: number;
  readonly certifiedSellers: number;
  readonly wonDeals: number;
  /** The named certifications the next tier requires that the partner lacks, with how many sellers are missing. */
  readonly certifications: readonly MissingCertification[];
}

/** The next tier up from `current` on the partner's ladder and how far the partner is from each of its requirements. */
export function shortfallToNext(program: Pick<TierProgram, 'tiers'>, current: string, inputs: TierInputs, type?: PartnerType): { next: TierDefinition | undefined; shortfall: Shortfall } {
  const ranked = tiersByRank(program, type);
  const at = ranked.findIndex((t) => t.name === current);
  // A tier not on this ladder (an override, a renamed tier): the next is the first one above its rank.
  const currentRank = program.tiers.find((t) => t.name === current)?.rank;
  const next = at >= 0 ? ranked[at + 1] : currentRank === undefined ? ranked[0] : ranked.find((t) => t.rank > currentRank);
  if (!next) return { next: undefined, shortfall: { revenueMinor: 0, certifiedSellers: 0, wonDeals: 0, certifications: [] } };
  return {
    next,
    shortfall: {
      revenueMinor: Math.max(0, next.minSourcedRevenueMinor - inputs.netSourcedRevenueMinor),
      certifiedSellers: Math.max(0, next.minCertifiedSellers - inputs.certifiedSellers),
      wonDeals: Math.max(0, next.minWonDeals - inputs.wonDeals),
      certifications: missingCertifications(next, inputs),
    },
  };
}

export function rankOf(program: Pick<TierProgram, 'tiers'>, name: string, type?: PartnerType): number {
  return tiersByRank(program, type).find((t) => t.name === name)?.rank ?? -1;
}
