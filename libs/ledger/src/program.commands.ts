import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PROGRAM_STREAM_ID } from '#events/program.js';
import { CERTIFICATION_CATALOG_STREAM_ID } from '#events/partners.js';
import { certificationCatalogDecider } from '#libs/partners/certification-catalog.js';
import { programDecider, type DefineProgram } from '#libs/program/program-decider.js';
import type { TierProgram } from '#libs/program/program.js';
import { programEffectiveAt, programTimeline } from '#libs/tiers/program-timeline.js';
import type { CommandContext, CommandOutcome } from './context.js';
import type { EventStore } from '#libs/event-store/port.js';
import { CommandPipeline } from './pipeline.js';
import { CLOCK, EVENT_STORE, type Clock } from './tokens.js';

export class DefineProgramCommand {
  constructor(readonly ctx: CommandContext, readonly program: DefineProgram) {}
}

@CommandHandler(DefineProgramCommand)
export class DefineProgramHandler implements ICommandHandler<DefineProgramCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ ctx, program }: DefineProgramCommand): Promise<CommandOutcome> {
    // Once revenue is attributed the reporting currency is fixed (v2 money): one look-up in the type index.
    let revenueAttributed = false;
    for await (const _e of this.store.readAll({ filter: { eventTypes: ['RevenueAttributed'] }, limit: 1 })) revenueAttributed = true;
    // Tier program v2: required certifications are checked against the catalog (entries are never removed, so a name
    // read here stays known when the program is decided).
    const catalog = [...(await this.pipeline.state(CERTIFICATION_CATALOG_STREAM_ID, certificationCatalogDecider)).keys()];
    return this.pipeline.handle(ctx, PROGRAM_STREAM_ID, programDecider, { ...program, facts: { revenueAttributed, catalog } });
  }
}

/**
 * The tier program version effective at a business time (DOMAIN.md, "Tier program v2": the latest defined whose
 * `effectiveFrom` is at or before it), read from its stream at decision time (a handful of events, folded once and
 * then only what was appended since). A version defined to apply later does not decide anything before its date.
 */
@Injectable()
export class ProgramInForce {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The version effective at `at` (default: now, the decision's time). */
  async get(at?: Date): Promise<TierProgram> {
    return programEffectiveAt(await this.pipeline.state(PROGRAM_STREAM_ID, programTimeline), at ?? this.clock.now());
  }
}
