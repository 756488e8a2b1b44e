import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RecordedEvent } from '#events/envelope.js';
import { mdfBudgetStreamId, type MdfClaimIdReserved, type MdfRequestIdReserved } from '#events/mdf.js';
import { decideAllocationReservation, foldBudget, mdfBudgetDecider, type SetBudget } from '#libs/mdf/budget.js';
import { mdfClaimDaysOf } from '#libs/program/program.js';
import { NotFound } from '#libs/kernel/errors.js';
import {
  fundDecider,
  fundStreamId,
  type AllocateFunds,
  type ApproveClaim,
  type ApproveRequest,
  type FundState,
  type PayClaim,
  type RejectClaim,
  type RejectRequest,
  type RequestFunds,
  type SubmitClaim,
} from '#libs/mdf/fund.js';
import { claimIdStreamId, decideReservation, foldReservations, requestIdStreamId } from '#libs/mdf/ids.js';
import { partnerDecider, partnerStreamId } from '#libs/partners/partner.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { CommandPipeline, type ClaimStep } from './pipeline.js';
import { Turns } from './turns.js';
import { ProgramInForce } from './program.commands.js';
import { EVENT_STORE, CLOCK, type Clock } from './tokens.js';
import type { EventStore } from '#libs/event-store/port.js';

export class AllocateMdfCommand {
  constructor(readonly ctx: CommandContext, readonly data: AllocateFunds['data']) {}
}

export class RequestMdfCommand {
  constructor(readonly ctx: CommandContext, readonly data: RequestFunds['data']) {}
}

export class MdfRequestActionCommand {
  constructor(readonly ctx: CommandContext, readonly command: ApproveRequest | RejectRequest) {}
}

export class SubmitMdfClaimCommand {
  constructor(readonly ctx: CommandContext, readonly data: SubmitClaim['data']) {}
}

export class MdfClaimActionCommand {
  constructor(readonly ctx: CommandContext, readonly command: ApproveClaim | RejectClaim | PayClaim) {}
}

export class ReleaseMdfCommand {
  constructor(readonly ctx: CommandContext, readonly asOf: string) {}
}

export class SetMdfBudgetCommand {
  constructor(readonly ctx: CommandContext, readonly data: SetBudget['data']) {}
}

/**
 * Request and claim ids are unique across funds (libs/mdf/src/ids.ts): the id's own stream is the claim, and also
 * the directory that routes `/v1/mdf/requests/{id}/…` to its fund, read from the log (never a lagging read model).
 */
abstract class MdfHandler {
  constructor(
    protected readonly pipeline: CommandPipeline,
    protected readonly store: EventStore,
    protected readonly clock: Clock,
  ) {}

  protected async requestReservation(requestId: string): Promise<MdfRequestIdReserved['data']> {
    const r = foldReservations<MdfRequestIdReserved>(await this.store.readStream(requestIdStreamId(requestId)), 'MdfRequestIdReserved');
    if (r.status === 'free') throw new NotFound(`MDF request ${requestId} not found`);
    return r.reservation;
  }

  protected async claimReservation(claimId: string): Promise<MdfClaimIdReserved['data']> {
    const r = foldReservations<MdfClaimIdReserved>(await this.store.readStream(claimIdStreamId(claimId)), 'MdfClaimIdReserved');
    if (r.status === 'free') throw new NotFound(`MDF claim ${claimId} not found`);
    return r.reservation;
  }

  /** The reservation of an id for a fund, as the claim step of a creation. */
  protected reservation<R extends MdfRequestIdReserved | MdfClaimIdReserved>(streamId: string, wanted: R, holds: (fund: FundState) => boolean): ClaimStep {
    return {
      streamId,
      latestHolds: true,
      decide: async (events) => {
        const state = foldReservations<R>(events, wanted.type);
        const holder =
          state.status === 'free'
            ? { holdsId: false, reservedAgoMs: 0 }
            : { holdsId: holds(await this.pipeline.state(state.reservation.fundStreamId, fundDecider)), reservedAgoMs: this.clock.now().getTime() - Date.parse(state.reservedAt) };
        return decideReservation(wanted, state, holder);
      },
    };
  }
}

/** Allocation needs an active partner whose current tier is MDF eligible under the program in force. */
@CommandHandler(AllocateMdfCommand)
export class AllocateMdfHandler implements ICommandHandler<AllocateMdfCommand, CommandOutcome> {
  private readonly turns = new Turns();

  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
  ) {}

  async execute({ ctx, data }: AllocateMdfCommand): Promise<CommandOutcome> {
    const [partner, program] = await Promise.all([this.pipeline.state(partnerStreamId(data.partnerId), partnerDecider), this.programs.get()]);
    const tier = partner.status === 'none' ? undefined : program.tiers.find((t) => t.name === partner.tier);
    const command: AllocateFunds = {
      type: 'AllocateFunds',
      data,
      facts: {
        partnerStatus: partner.status,
        ...(partner.status !== 'none' ? { tier: partner.tier } : {}),
        tierMdfEligible: tier?.mdfEligible === true,
        programVersion: program.version,
      },
    };
    const fundId = fundStreamId(data.partnerId, data.period);
    const budgetId = mdfBudgetStreamId(data.period);
    // The period's budget is a boundary of its own: the allocation reserves its amount there first (budget.ts).
    return this.turns.run(budgetId, () =>
      this.pipeline.handleWithClaim(ctx, fundId, fundDecider, command, {
        streamId: budgetId,
        decide: (events) => decideAllocationReservation(foldBudget(events), { period: data.period, partnerId: data.partnerId, fundStreamId: fundId, amount: data.amount }),
      }),
    );
  }
}

/** Creating a request spans two streams: the request id's reservation, then the fund (docs/money.md). */
@CommandHandler(RequestMdfCommand)
export class RequestMdfHandler extends MdfHandler implements ICommandHandler<RequestMdfCommand, CommandOutcome> {
  constructor(@Inject(CommandPipeline) pipeline: CommandPipeline, @Inject(EVENT_STORE) store: EventStore, @Inject(CLOCK) clock: Clock) {
    super(pipeline, store, clock);
  }

  async execute({ ctx, data }: RequestMdfCommand): Promise<CommandOutcome> {
    const partner = await this.pipeline.state(partnerStreamId(data.partnerId), partnerDecider);
    const fundId = fundStreamId(data.partnerId, data.period);
    const wanted: MdfRequestIdReserved = { type: 'MdfRequestIdReserved', data: { requestId: data.requestId, partnerId: data.partnerId, period: data.period, fundStreamId: fundId } };
    return this.pipeline.handleWithClaim(
      ctx,
      fundId,
      fundDecider,
      { type: 'RequestFunds', data, facts: { partnerStatus: partner.status } },
      this.reservation(requestIdStreamId(data.requestId), wanted, (fund) => fund.status === 'open' && fund.requests.has(data.requestId)),
    );
  }
}

@CommandHandler(MdfRequestActionCommand)
export class MdfRequestActionHandler extends MdfHandler implements ICommandHandler<MdfRequestActionCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) pipeline: CommandPipeline,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) clock: Clock,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
  ) {
    super(pipeline, store, clock);
  }

  async execute({ ctx, command }: MdfRequestActionCommand): Promise<CommandOutcome> {
    const { fundStreamId: fundId } = await this.requestReservation(command.data.requestId);
    // An approval records its claim deadline under the program in force.
    const decided = command.type === 'ApproveRequest' ? { ...command, facts: { mdfClaimDays: mdfClaimDaysOf(await this.programs.get()) } } : command;
    return this.pipeline.handle(ctx, fundId, fundDecider, decided);
  }
}

/** A claim goes to its request's fund; its id is reserved like a request id. A partner claims for itself only. */
@CommandHandler(SubmitMdfClaimCommand)
export class SubmitMdfClaimHandler extends MdfHandler implements ICommandHandler<SubmitMdfClaimCommand, CommandOutcome> {
  constructor(@Inject(CommandPipeline) pipeline: CommandPipeline, @Inject(EVENT_STORE) store: EventStore, @Inject(CLOCK) clock: Clock) {
    super(pipeline, store, clock);
  }

  async execute({ ctx, data }: SubmitMdfClaimCommand): Promise<CommandOutcome> {
    const request = await this.requestReservation(data.requestId);
    // Another partner's request is as absent as an unknown one (a 403 here would tell a partner key which
    // request ids exist: issue #17's existence oracle).
    if (ctx.actor.role === 'partner' && ctx.actor.partnerId !== request.partnerId) throw new NotFound(`MDF request ${data.requestId} not found`);
    const wanted: MdfClaimIdReserved = {
      type: 'MdfClaimIdReserved',
      data: { claimId: data.claimId, requestId: data.requestId, partnerId: request.partnerId, period: request.period, fundStreamId: request.fundStreamId },
    };
    // Claims need an active partner (read just before deciding); paying an approved claim does not.
    const partner = await this.pipeline.state(partnerStreamId(request.partnerId), partnerDecider);
    return this.pipeline.handleWithClaim(
      ctx,
      request.fundStreamId,
      fundDecider,
      { type: 'SubmitClaim', data, facts: { partnerStatus: partner.status } },
      this.reservation(claimIdStreamId(data.claimId), wanted, (fund) => fund.status === 'open' && fund.claims.has(data.claimId)),
    );
  }
}

@CommandHandler(MdfClaimActionCommand)
export class MdfClaimActionHandler extends MdfHandler implements ICommandHandler<MdfClaimActionCommand, CommandOutcome> {
  constructor(@Inject(CommandPipeline) pipeline: CommandPipeline, @Inject(EVENT_STORE) store: EventStore, @Inject(CLOCK) clock: Clock) {
    super(pipeline, store, clock);
  }

  async execute({ ctx, command }: MdfClaimActionCommand): Promise<CommandOutcome> {
    const { fundStreamId: fundId } = await this.claimReservation(command.data.claimId);
    return this.pipeline.handle(ctx, fundId, fundDecider, command);
  }
}

/**
 * A release run fans out over every fund that has an approval (found in the log's type index, not a lagging read
 * model); each fund decides its own releases against its stream. Retried with its Idempotency-Key, the earlier run
 * is answered.
 */
@CommandHandler(ReleaseMdfCommand)
export class ReleaseMdfHandler implements ICommandHandler<ReleaseMdfCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ ctx, asOf }: ReleaseMdfCommand): Promise<CommandOutcome> {
    const earlier = await this.pipeline.earlierRun(ctx);
    if (earlier) return earlier;
    const head = await this.store.headPosition();
    const funds = new Set<string>();
    for await (const e of this.store.readAll({ toPosition: head, filter: { eventTypes: ['MdfApproved'] } })) funds.add(e.streamId);
    const events: RecordedEvent[] = [];
    for (const fundId of [...funds].sort()) {
      const outcome = await this.pipeline.handle(ctx, fundId, fundDecider, { type: 'ReleaseApprovals', data: { asOf } });
      events.push(...outcome.events);
    }
    return { position: events.reduce((p, e) => (e.position > p ? e.position : p), head), events, replayed: false };
  }
}

@CommandHandler(SetMdfBudgetCommand)
export class SetMdfBudgetHandler implements ICommandHandler<SetMdfBudgetCommand, CommandOutcome> {
  constructor(@Inject(CommandPipeline) private readonly pipeline: CommandPipeline) {}

  execute({ ctx, data }: SetMdfBudgetCommand): Promise<CommandOutcome> {
    return this.pipeline.handle(ctx, mdfBudgetStreamId(data.period), mdfBudgetDecider, { type: 'SetBudget', data });
  }
}

export const MDF_COMMAND_HANDLERS = [AllocateMdfHandler, RequestMdfHandler, MdfRequestActionHandler, SubmitMdfClaimHandler, MdfClaimActionHandler, ReleaseMdfHandler, SetMdfBudgetHandler];
