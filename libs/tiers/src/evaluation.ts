import type { PartnerEvent, PartnerTierChanged, PartnerTierOverrideEnded, PartnerTierQualificationRecorded, TierDowngradeCancelled, TierDowngradeScheduled } from '#events/partners.js';
import type { Decider } from '#libs/kernel/decider.js';
import { evolvePartner, partnerDecider, type PartnerState } from '#libs/partners/partner.js';
import type { TierProgram } from '#libs/program/program.js';
import { qualifyingTier, rankOf, type TierInputs } from './qualification.js';

const DAY_MS = 86_400_000;

export type TierEvaluationEvent = PartnerTierChanged | TierDowngradeScheduled | TierDowngradeCancelled | PartnerTierOverrideEnded | PartnerTierQualificationRecorded;

/**
 * One partner's tier evaluation as of `asOf` (DOMAIN.md, "Tier program"): promote at once; when the
 * partner no longer qualifies for its tier, schedule a downgrade effective `asOf + downgradeGraceDays`;
 * an evaluation at or after that date demotes it to the tier it then qualifies for, unless it qualifies
 * again (the downgrade is cancelled). Only active partners are promoted; each partner climbs the ladder of its
 * type, under the program version effective at `asOf` (the caller picks it). Idempotent: evaluating the same `asOf` again decides nothing new.
 */
export function evaluateTier(state: PartnerState, inputs: TierInputs, asOf: Date, program: TierProgram): readonly TierEvaluationEvent[] {
  if (state.status === 'none' || state.status === 'terminated') return [];
  // Tier program v2: an override holds the partner until its end date; from then on the partner is back on its own
  // tier, and evaluated from there in the same run.
  if (state.override !== undefined) {
    if (asOf.getTime() < Date.parse(state.override.until)) {
      // Not moved, but what it qualifies for is recorded: by the first evaluation under the override, then on change.
      const qualified = qualifyingTier(program, inputs, state.type).name;
      if (qualified === state.override.qualifyingTier) return [];
      const { tier, until } = state.override;
      return [{ type: 'PartnerTierQualificationRecorded', data: { partnerId: state.partnerId, tier, qualifyingTier: qualified, until, asOf: asOf.toISOString(), programVersion: program.version } }];
    }
    const ended: PartnerTierOverrideEnded = {
      type: 'PartnerTierOverrideEnded',
      data: { partnerId: state.partnerId, tier: state.override.tier, restoredTier: state.tier, reason: 'the override period ended', endedAt: state.override.until },
    };
    return [ended, ...evaluateTier(evolvePartner(state, ended), inputs, asOf, program)];
  }
  const partnerId = state.partnerId;
  const at = asOf.toISOString();
  const current = state.tier;
  const qualified = qualifyingTier(program, inputs, state.type);
  const currentRank = rankOf(program, current, state.type);
  // Tier program v2: only active partners are promoted; a pending or suspended one keeps at most its tier.
  const qualifying = state.status !== 'active' && currentRank >= 0 && qualified.rank > currentRank ? { name: current, rank: currentRank } : qualified;
  const pending = state.pendingDowngrade;

  // A tier the program no longer has: move to where the partner qualifies now.
  if (currentRank < 0) {
    return [{ type: 'PartnerTierChanged', data: { partnerId, from: current, to: qualifying.name, kind: 'demotion', asOf: at, programVersion: program.version } }];
  }
  if (qualifying.rank > currentRank) {
    return [{ type: 'PartnerTierChanged', data: { partnerId, from: current, to: qualifying.name, kind: 'promotion', asOf: at, programVersion: program.version } }];
  }
  if (qualifying.rank === currentRank) {
    return pending ? [{ type: 'TierDowngradeCancelled', data: { partnerId, tier: current, asOf: at } }] : [];
  }
  // Qualifies for less than its tier.
  if (!pending) {
    const effectiveAt = new Date(asOf.getTime() + program.downgradeGraceDays * DAY_MS).toISOString();
    if (program.downgradeGraceDays === 0) {
      return [{ type: 'PartnerTierChanged', data: { partnerId, from: current, to: qualifying.name, kind: 'demotion', asOf: at, programVersion: program.version } }];
    }
    return [{ type: 'TierDowngradeScheduled', data: { partnerId, from: current, to: qualifying.name, effectiveAt, asOf: at, programVersion: program.version } }];
  }
  if (asOf.getTime() >= Date.parse(pending.effectiveAt)) {
    return [{ type: 'PartnerTierChanged', data: { partnerId, from: current, to: qualifying.name, kind: 'demotion', asOf: at, programVersion: program.version } }];
  }
  return [];
}

/** One partner's evaluation, decided against its partner stream: the inputs were read from the tier read model. */
export interface EvaluateTier {
  readonly inputs: TierInputs;
  readonly asOf: Date;
  readonly program: TierProgram;
}

export const tierEvaluationDecider: Decider<EvaluateTier, PartnerState, PartnerEvent> = {
  initialState: partnerDecider.initialState,
  evolve: partnerDecider.evolve,
  decide: (c, state) => evaluateTier(state, c.inputs, c.asOf, c.program),
};
