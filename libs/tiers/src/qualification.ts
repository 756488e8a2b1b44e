import type { TierDefinition, TierProgram } from '#libs/program/program.js';

const DAY_MS = 86_400_000;

/** What a partner brings to an evaluation, measured over the program's window ending `asOf`. */
export interface TierInputs {
  /** Net partner-sourced revenue in the reporting currency: sourced allocations minus sourced reversals. */
  readonly netSourcedRevenueMinor: number;
  readonly certifiedSellers: number;
  readonly wonDeals: number;
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

export function tiersByRank(program: Pick<TierProgram, 'tiers'>): readonly TierDefinition[] {
  return [...program.tiers].sort((a, b) => a.rank - b.rank);
}

export function meets(t: TierDefinition, i: TierInputs): boolean {
  return i.netSourcedRevenueMinor >= t.minSourcedRevenueMinor && i.certifiedSellers >= t.minCertifiedSellers && i.wonDeals >= t.minWonDeals;
}

/** The highest tier whose every requirement is met; the lowest tier when none is. */
export function qualifyingTier(program: Pick<TierProgram, 'tiers'>, inputs: TierInputs): TierDefinition {
  const ranked = tiersByRank(program);
  let best = ranked[0]!;
  for (const t of ranked) if (meets(t, inputs)) best = t;
  return best;
}

/** The next tier up from `current` and how far the partner is from each of its requirements (never negative). */
export function shortfallToNext(
  program: Pick<TierProgram, 'tiers'>,
  current: string,
  inputs: TierInputs,
): { next: TierDefinition | undefined; shortfall: { revenueMinor: number; certifiedSellers: number; wonDeals: number } } {
  const ranked = tiersByRank(program);
  const at = ranked.findIndex((t) => t.name === current);
  const next = at < 0 ? ranked[0] : ranked[at + 1];
  if (!next) return { next: undefined, shortfall: { revenueMinor: 0, certifiedSellers: 0, wonDeals: 0 } };
  return {
    next,
    shortfall: {
      revenueMinor: Math.max(0, next.minSourcedRevenueMinor - inputs.netSourcedRevenueMinor),
      certifiedSellers: Math.max(0, next.minCertifiedSellers - inputs.certifiedSellers),
      wonDeals: Math.max(0, next.minWonDeals - inputs.wonDeals),
    },
  };
}

export function rankOf(program: Pick<TierProgram, 'tiers'>, name: string): number {
  return program.tiers.find((t) => t.name === name)?.rank ?? -1;
}
