import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RecordedEvent } from '#events/envelope.js';
import type { PartnerEvent } from '#events/partners.js';
import type { EventStore } from '#libs/event-store/port.js';
import { evolvePartner, initialPartnerState, partnerStreamId, type PartnerState } from '#libs/partners/partner.js';
import { evaluateTier } from '#libs/tiers/evaluation.js';
import type { TierInputs } from '#libs/tiers/qualification.js';
import { evaluablePartners, tierInputs } from '#projections/tier-standings/tier-standings.queries.js';
import { CommandExecutor, type CommandContext } from '../ledger/command-executor.js';
import { ReadModels } from '../ledger/read-models.js';
import { EVENT_STORE } from '../ledger/tokens.js';
import { ProgramService } from '../program/program.service.js';

export class EvaluateTiersCommand {
  constructor(readonly ctx: CommandContext, readonly asOf: Date) {}
}

export interface TierChange {
  readonly partnerId: string;
  readonly from: string;
  readonly to: string;
  readonly kind: 'promotion' | 'demotion' | 'downgrade-scheduled' | 'downgrade-cancelled';
  readonly effectiveAt?: string;
}

export interface EvaluationOutcome {
  readonly position: bigint;
  readonly events: readonly RecordedEvent[];
  readonly evaluated: number;
}

/** The changes an evaluation recorded, read from its events (so a replayed evaluation answers the same). */
export function changesOf(events: readonly RecordedEvent[]): TierChange[] {
  const out: TierChange[] = [];
  for (const e of events as unknown as PartnerEvent[]) {
    if (e.type === 'PartnerTierChanged') out.push({ partnerId: e.data.partnerId, from: e.data.from, to: e.data.to, kind: e.data.kind });
    else if (e.type === 'TierDowngradeScheduled') out.push({ partnerId: e.data.partnerId, from: e.data.from, to: e.data.to, kind: 'downgrade-scheduled', effectiveAt: e.data.effectiveAt });
    else if (e.type === 'TierDowngradeCancelled') out.push({ partnerId: e.data.partnerId, from: e.data.tier, to: e.data.tier, kind: 'downgrade-cancelled' });
  }
  return out;
}

/**
 * Evaluates every partner the ledger knows (not terminated) as of `asOf`. The inputs come from the tier
 * standings read model, brought up to the log's head first; each partner's decision is then made against
 * its own stream's revision, with the program in force now (named in the events).
 */
@CommandHandler(EvaluateTiersCommand)
export class EvaluateTiersHandler implements ICommandHandler<EvaluateTiersCommand, EvaluationOutcome> {
  constructor(
    @Inject(CommandExecutor) private readonly executor: CommandExecutor,
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(ProgramService) private readonly programs: ProgramService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ ctx, asOf }: EvaluateTiersCommand): Promise<EvaluationOutcome> {
    const program = await this.programs.inForce();
    const head = await this.store.headPosition();
    const { value: partners } = await this.readModels.read(head, (db) => {
      const inputs = new Map<string, TierInputs>();
      for (const id of evaluablePartners(db)) inputs.set(id, tierInputs(db, id, asOf, program));
      return inputs;
    });
    const events: RecordedEvent[] = [];
    let position = head;
    for (const [partnerId, inputs] of partners) {
      const outcome = await this.executor.execute(
        ctx,
        {
          streamId: partnerStreamId(partnerId),
          initialState: initialPartnerState,
          evolve: evolvePartner,
          decide: (s: PartnerState, now: Date) => {
            void now;
            return evaluateTier(s, inputs, asOf, program);
          },
        },
        // Several streams: an earlier run is recognised per stream, never as a whole.
        { isComplete: () => false },
      );
      events.push(...outcome.events);
      if (outcome.events.length && outcome.position > position) position = outcome.position;
    }
    return { position, events, evaluated: partners.size };
  }
}
