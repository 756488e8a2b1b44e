import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { PROGRAM_STREAM_ID, type ProgramEvent } from '#events/program.js';
import type { EventStore } from '#libs/event-store/port.js';
import { CLOCK, EVENT_STORE, type Clock } from '#libs/ledger/tokens.js';
import { DEFAULT_PROGRAM, type TierProgram } from '#libs/program/program.js';
import { evolveTimeline, type ProgramTimeline, type ProgramVersion } from '#libs/tiers/program-timeline.js';
import { ReadModels } from '#projections/runner/read-models.js';

export class GetProgramQuery {
  constructor(readonly minPosition?: bigint) {}
}

/** One defined version with when it was defined. */
export type ProgramVersionView = TierProgram & { definedAt?: string };

/**
 * The version in force now, with `pending`: the versions defined to apply later (each from its `effectiveFrom`,
 * in that order), so that a program manager sees what will change and when. Absent when none (so that the answer
 * of a program without pending versions can be sent back as a PUT body, as before).
 */
export type ProgramView = ProgramVersionView & { pending?: ProgramVersionView[] };

/**
 * The version in force at `now` and the pending ones, from the timeline (DOMAIN.md, "Tier program v2"): version i
 * applies from its `effectiveFrom` until a version defined after it becomes effective, so a defined version that a
 * later one, effective no later, replaces before its date never applies and is not pending.
 */
export function programSchedule(timeline: ProgramTimeline, now: Date): ProgramView {
  const t = now.getTime();
  let inForce = -1;
  for (let i = timeline.length - 1; i >= 0; i--) {
    if (Date.parse(timeline[i]!.effectiveFrom) <= t) {
      inForce = i;
      break;
    }
  }
  const pending: ProgramVersion[] = [];
  // Walking back from the last defined: a version is pending when it starts before every later one that applies.
  let next = Number.POSITIVE_INFINITY;
  for (let i = timeline.length - 1; i > inForce; i--) {
    const from = Date.parse(timeline[i]!.effectiveFrom);
    if (from < next) {
      pending.unshift(timeline[i]!);
      next = from;
    }
  }
  const current: ProgramVersionView = inForce >= 0 ? { ...timeline[inForce]! } : DEFAULT_PROGRAM;
  return pending.length ? { ...current, pending: pending.map((v) => ({ ...v })) } : current;
}

/** The program in force and the pending versions, read from its stream: always current, at the log's head. */
@QueryHandler(GetProgramQuery)
export class GetProgramHandler implements IQueryHandler<GetProgramQuery, { position: bigint; value: ProgramView }> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(q: GetProgramQuery): Promise<{ position: bigint; value: ProgramView }> {
    // Read-your-writes like every query: wait (bounded by the consistency timeout) until the ledger has reached it.
    await this.readModels.reached(q.minPosition);
    const [events, head] = await Promise.all([this.store.readStream<ProgramEvent>(PROGRAM_STREAM_ID), this.store.headPosition()]);
    const timeline = events.reduce<ProgramTimeline>(evolveTimeline, []);
    return { position: head, value: programSchedule(timeline, this.clock.now()) };
  }
}
