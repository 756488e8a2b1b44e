import type { ProgramEvent } from '#events/program.js';
import { DEFAULT_PROGRAM, type TierProgram } from '#libs/program/program.js';

/** A defined version with the business time it applies from (older events have no `effectiveFrom`: when defined). */
export type ProgramVersion = TierProgram & { readonly effectiveFrom: string; readonly definedAt: string };

/**
 * Every version of the tier program in the order defined (DOMAIN.md, "Tier program v2"): tier decisions and
 * standings at `asOf` use the version effective then, not the last one defined.
 */
export type ProgramTimeline = readonly ProgramVersion[];

export function evolveTimeline(timeline: ProgramTimeline, event: ProgramEvent): ProgramTimeline {
  if (event.type !== 'TierProgramDefined') return timeline;
  return [...timeline, { ...event.data, effectiveFrom: event.data.effectiveFrom ?? event.data.definedAt }];
}

/** A fold for `CommandPipeline.state` over the `program-tiers` stream. */
export const programTimeline = {
  initialState: (): ProgramTimeline => [],
  evolve: evolveTimeline,
};

/**
 * The version in force at business time `asOf`: each version replaces the program from its `effectiveFrom` on, so
 * it is the latest defined whose `effectiveFrom` is at or before `asOf`; before any, the default program.
 */
export function programEffectiveAt(timeline: ProgramTimeline, asOf: Date): TierProgram {
  const t = asOf.getTime();
  for (let i = timeline.length - 1; i >= 0; i--) {
    const v = timeline[i]!;
    if (Date.parse(v.effectiveFrom) <= t) {
      const { definedAt: _d, ...program } = v;
      return program;
    }
  }
  return DEFAULT_PROGRAM;
}
