import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RecordedEvent } from '#events/envelope.js';
import type { PartnerEvent } from '#events/partners.js';
import { partnerDecider, partnerStreamId } from '#libs/partners/partner.js';
import { tiersByRank } from '#libs/tiers/qualification.js';
import { PROGRAM_STREAM_ID } from '#events/program.js';
import { tierEvaluationDecider } from '#libs/tiers/evaluation.js';
import { programEffectiveAt, programTimeline } from '#libs/tiers/program-timeline.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { CLOCK, type Clock } from './tokens.js';
import { CommandPipeline } from './pipeline.js';
import { LEDGER_READS, type LedgerReads } from './reads.js';

export class EvaluateTiersCommand {
  constructor(readonly ctx: CommandContext, readonly asOf: Date) {}
}

export interface TierChange {
  readonly partnerId: string;
  readonly from: string;
  readonly to: string;
  readonly kind: 'promotion' | 'demotion' | 'downgrade-scheduled' | 'downgrade-cancelled' | 'override-ended';
  readonly effectiveAt?: string;
}

/** An overridden partner not moved, with the qualification the evaluation recorded. */
export interface TierHeld {
  readonly partnerId: string;
  readonly tier: string;
  readonly qualifyingTier: string;
  readonly until: string;
}

export function heldOf(events: readonly RecordedEvent[]): TierHeld[] {
  return (events as readonly (PartnerEvent & RecordedEvent)[]).flatMap((e) =>
    e.type === 'PartnerTierQualificationRecorded' ? [{ partnerId: e.data.partnerId, tier: e.data.tier, qualifyingTier: e.data.qualifyingTier, until: e.data.until }] : [],
  );
}

export interface EvaluationOutcome {
  readonly position: bigint;
  readonly events: readonly RecordedEvent[];
  readonly evaluated: number;
}

/** The changes an evaluation recorded, read from its events (so a replayed evaluation answers the same). */
export function changesOf(events: readonly RecordedEvent[]): TierChange[] {
  const out: TierChange[] = [];
  for (const e of events as readonly (PartnerEvent & RecordedEvent)[]) {
    if (e.type === 'PartnerTierChanged') out.push({ partnerId: e.data.partnerId, from: e.data.from, to: e.data.to, kind: e.data.kind });
    else if (e.type === 'TierDowngradeScheduled') out.push({ partnerId: e.data.partnerId, from: e.data.from, to: e.data.to, kind: 'downgrade-scheduled', effectiveAt: e.data.effectiveAt });
    else if (e.type === 'TierDowngradeCancelled') out.push({ partnerId: e.data.partnerId, from: e.data.tier, to: e.data.tier, kind: 'downgrade-cancelled' });
    else if (e.type === 'PartnerTierOverrideEnded') out.push({ partnerId: e.data.partnerId, from: e.data.tier, to: e.data.restoredTier, kind: 'override-ended' });
  }
  return out;
}

/**
 * Evaluates every partner the ledger knows (not terminated) as of `asOf`. The inputs come from the tier standings
 * read model at the log's head; each partner's decision is made against its own stream's revision, with the
 * program version effective at `asOf` (named in the events). A retry with the same Idempotency-Key finishes what a crashed run
 * left, partner by partner.
 */
@CommandHandler(EvaluateTiersCommand)
export class EvaluateTiersHandler implements ICommandHandler<EvaluateTiersCommand, EvaluationOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(LEDGER_READS) private readonly reads: LedgerReads,
  ) {}

  async execute({ ctx, asOf }: EvaluateTiersCommand): Promise<EvaluationOutcome> {
    // Tier program v2: the version effective at asOf, not the last one defined.
    const program = programEffectiveAt(await this.pipeline.state(PROGRAM_STREAM_ID, programTimeline), asOf);
    const { position: head, value: partners } = await this.reads.tierInputs(asOf, program);
    const events: RecordedEvent[] = [];
    for (const [partnerId, inputs] of partners) {
      const outcome = await this.pipeline.handle(ctx, partnerStreamId(partnerId), tierEvaluationDecider, { inputs, asOf, program });
      events.push(...outcome.events);
    }
    return { position: events.reduce((p, e) => (e.position > p ? e.position : p), head), events, evaluated: partners.size };
  }
}

/** `POST /v1/partners/{id}/tier-override`: hold a partner at a tier of its ladder until a date (tier program v2). */
export class OverrideTierCommand {
  constructor(readonly ctx: CommandContext, readonly data: { partnerId: string; tier: string; reason: string; until: string }) {}
}

@CommandHandler(OverrideTierCommand)
export class OverrideTierHandler implements ICommandHandler<OverrideTierCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ ctx, data }: OverrideTierCommand): Promise<CommandOutcome> {
    const program = programEffectiveAt(await this.pipeline.state(PROGRAM_STREAM_ID, programTimeline), this.clock.now());
    const partner = await this.pipeline.state(partnerStreamId(data.partnerId), partnerDecider);
    const ladder = tiersByRank(program, partner.status === 'none' ? undefined : partner.type).map((t) => t.name);
    return this.pipeline.handle(ctx, partnerStreamId(data.partnerId), partnerDecider, { type: 'OverrideTier', data: { ...data, ladder, programVersion: program.version } });
  }
}
