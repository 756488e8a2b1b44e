import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { RecordedEvent } from '#events/envelope.js';
import type { MdfClaimIdReserved, MdfEvent, MdfRequestIdReserved } from '#events/mdf.js';
import type { PartnerEvent } from '#events/partners.js';
import type { EventStore } from '#libs/event-store/port.js';
import { fold } from '#libs/kernel/decider.js';
import { Forbidden, NotFound } from '#libs/kernel/errors.js';
import {
  decideFund,
  evolveFund,
  fundStreamId,
  initialFundState,
  type AllocateFunds,
  type ApproveClaim,
  type ApproveRequest,
  type FundState,
  type MdfCommand,
  type PayClaim,
  type RejectClaim,
  type RejectRequest,
  type RequestFunds,
  type SubmitClaim,
} from '#libs/mdf/fund.js';
import { claimIdStreamId, decideReservation, foldReservations, requestIdStreamId } from '#libs/mdf/ids.js';
import { evolvePartner, initialPartnerState, partnerStreamId, type PartnerState } from '#libs/partners/partner.js';
import { listFunds, type FundFilter, type FundPage } from '#projections/mdf-funds/mdf-funds.queries.js';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../ledger/command-executor.js';
import { ReadModels } from '../ledger/read-models.js';
import { CLOCK, EVENT_STORE, type Clock } from '../ledger/tokens.js';
import { ProgramService } from '../program/program.service.js';

export class AllocateMdfCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly data: AllocateFunds['data'],
  ) {}
}

export class RequestMdfCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly data: RequestFunds['data'],
  ) {}
}

export class MdfRequestActionCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly command: ApproveRequest | RejectRequest,
  ) {}
}

export class SubmitMdfClaimCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly data: SubmitClaim['data'],
  ) {}
}

export class MdfClaimActionCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly command: ApproveClaim | RejectClaim | PayClaim,
  ) {}
}

export class ListFundsQuery {
  constructor(
    readonly filter: FundFilter,
    readonly minPosition?: bigint,
  ) {}
}

const hasType = (type: string) => (events: readonly RecordedEvent[]) => events.some((e) => e.type === type);

/**
 * The reads and appends every MDF command shares: the fund stream (the consistency boundary of every money
 * rule), the id reservation streams (global uniqueness of request and claim ids, and the directory that
 * routes an id to its fund), and the partner's stream.
 */
@Injectable()
export class MdfStreams {
  constructor(
    @Inject(CommandExecutor) private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async partner(partnerId: string): Promise<PartnerState> {
    return fold(evolvePartner, initialPartnerState(), (await this.store.readStream(partnerStreamId(partnerId))) as unknown as PartnerEvent[]);
  }

  async fund(streamId: string): Promise<FundState> {
    return fold(evolveFund, initialFundState(), (await this.store.readStream(streamId)) as unknown as MdfEvent[]);
  }

  /**
   * Decides and appends against the fund stream's revision (re-deciding on a concurrent change). Commands on
   * one fund are also queued in this process: correctness comes from the expected revision alone (another
   * process still collides on it), but a popular fund would otherwise burn the executor's bounded retries and
   * answer 409 concurrency-conflict to many of its callers.
   */
  decideOnFund(ctx: CommandContext, streamId: string, command: MdfCommand, isComplete?: (events: readonly RecordedEvent[]) => boolean): Promise<CommandOutcome> {
    return this.serialized(streamId, () =>
      this.executor.execute(
        ctx,
        {
          streamId,
          initialState: initialFundState,
          evolve: evolveFund,
          decide: (s: FundState, now: Date) => decideFund(command, s, now),
        },
        isComplete ? { isComplete } : {},
      ),
    );
  }

  private readonly queues = new Map<string, Promise<unknown>>();

  private serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    // Forget the queue once it drains, so that the map holds only funds with commands in flight.
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  /** Refusals before anything is appended: the command decided against the fund as it stands now. */
  async dryRun(streamId: string, command: MdfCommand): Promise<void> {
    decideFund(command, await this.fund(streamId), this.clock.now());
  }

  /** The fund a request id routes to, from its reservation (read from the log, always current). */
  async requestReservation(requestId: string): Promise<MdfRequestIdReserved['data']> {
    const r = foldReservations<MdfRequestIdReserved>(await this.store.readStream(requestIdStreamId(requestId)), 'MdfRequestIdReserved');
    if (r.status === 'free') throw new NotFound(`MDF request ${requestId} not found`);
    return r.reservation;
  }

  async claimReservation(claimId: string): Promise<MdfClaimIdReserved['data']> {
    const r = foldReservations<MdfClaimIdReserved>(await this.store.readStream(claimIdStreamId(claimId)), 'MdfClaimIdReserved');
    if (r.status === 'free') throw new NotFound(`MDF claim ${claimId} not found`);
    return r.reservation;
  }

  /**
   * Reserves an id for a fund at the revision of the id's stream, so that two creations of one id for two
   * funds collide there. Returns the reservation events this command appended (or had appended in an earlier,
   * interrupted run), [] when an existing reservation for the same fund is reused.
   */
  async reserve<R extends MdfRequestIdReserved | MdfClaimIdReserved>(
    ctx: CommandContext,
    streamId: string,
    wanted: R,
    holds: (fund: FundState) => boolean,
  ): Promise<readonly RecordedEvent[]> {
    return this.executor.claim(
      ctx,
      streamId,
      async (events) => {
        const state = foldReservations<R>(events, wanted.type);
        const holder =
          state.status === 'free'
            ? { holdsId: false, reservedAgoMs: 0 }
            : { holdsId: holds(await this.fund(state.reservation.fundStreamId)), reservedAgoMs: this.clock.now().getTime() - Date.parse(state.reservedAt) };
        return decideReservation(wanted, state, holder);
      },
      `${streamId} is being reserved concurrently; retry`,
    );
  }
}

/** Merges the reservation events into the outcome, in log order, without repeating any. */
function withReservation(reservation: readonly RecordedEvent[], outcome: CommandOutcome): CommandOutcome {
  const rest = outcome.events.filter((e) => !reservation.some((r) => r.eventId === e.eventId));
  return { ...outcome, events: [...reservation, ...rest].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0)) };
}

/** Allocation needs an active partner whose current tier is MDF eligible under the program in force. */
@CommandHandler(AllocateMdfCommand)
export class AllocateMdfHandler implements ICommandHandler<AllocateMdfCommand, CommandOutcome> {
  constructor(
    @Inject(MdfStreams) private readonly mdf: MdfStreams,
    @Inject(ProgramService) private readonly programs: ProgramService,
  ) {}

  async execute({ ctx, data }: AllocateMdfCommand): Promise<CommandOutcome> {
    const [partner, program] = await Promise.all([this.mdf.partner(data.partnerId), this.programs.inForce()]);
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
    return this.mdf.decideOnFund(ctx, fundStreamId(data.partnerId, data.period), command);
  }
}

/**
 * Creating a request spans two streams: the request id's reservation, then the fund. The command is first
 * decided against the fund without appending (so a refusal appends nothing), then the id is reserved, then
 * the request is decided again and appended at the fund's revision. See docs/money.md.
 */
@CommandHandler(RequestMdfCommand)
export class RequestMdfHandler implements ICommandHandler<RequestMdfCommand, CommandOutcome> {
  constructor(
    @Inject(CommandExecutor) private readonly executor: CommandExecutor,
    @Inject(MdfStreams) private readonly mdf: MdfStreams,
  ) {}

  async execute({ ctx, data }: RequestMdfCommand): Promise<CommandOutcome> {
    const complete = hasType('MdfRequested');
    const earlier = await this.executor.findEarlier(ctx, complete);
    if (earlier) return earlier;
    const partner = await this.mdf.partner(data.partnerId);
    const command: RequestFunds = { type: 'RequestFunds', data, facts: { partnerStatus: partner.status } };
    const fundId = fundStreamId(data.partnerId, data.period);
    await this.mdf.dryRun(fundId, command);
    const reservation = await this.mdf.reserve(
      ctx,
      requestIdStreamId(data.requestId),
      { type: 'MdfRequestIdReserved', data: { requestId: data.requestId, partnerId: data.partnerId, period: data.period, fundStreamId: fundId } },
      (fund) => fund.status === 'open' && fund.requests.has(data.requestId),
    );
    return withReservation(reservation, await this.mdf.decideOnFund(ctx, fundId, command, complete));
  }
}

@CommandHandler(MdfRequestActionCommand)
export class MdfRequestActionHandler implements ICommandHandler<MdfRequestActionCommand, CommandOutcome> {
  constructor(@Inject(MdfStreams) private readonly mdf: MdfStreams) {}

  async execute({ ctx, command }: MdfRequestActionCommand): Promise<CommandOutcome> {
    const { fundStreamId: fundId } = await this.mdf.requestReservation(command.data.requestId);
    return this.mdf.decideOnFund(ctx, fundId, command);
  }
}

/** A claim goes to its request's fund; its id is reserved like a request id. A partner claims for itself only. */
@CommandHandler(SubmitMdfClaimCommand)
export class SubmitMdfClaimHandler implements ICommandHandler<SubmitMdfClaimCommand, CommandOutcome> {
  constructor(
    @Inject(CommandExecutor) private readonly executor: CommandExecutor,
    @Inject(MdfStreams) private readonly mdf: MdfStreams,
  ) {}

  async execute({ ctx, data }: SubmitMdfClaimCommand): Promise<CommandOutcome> {
    const complete = hasType('MdfClaimSubmitted');
    const earlier = await this.executor.findEarlier(ctx, complete);
    if (earlier) return earlier;
    const request = await this.mdf.requestReservation(data.requestId);
    if (ctx.actor.role === 'partner' && ctx.actor.partnerId !== request.partnerId) {
      throw new Forbidden('A partner key may only claim MDF for its own partner.');
    }
    const command: SubmitClaim = { type: 'SubmitClaim', data };
    await this.mdf.dryRun(request.fundStreamId, command);
    const reservation = await this.mdf.reserve(
      ctx,
      claimIdStreamId(data.claimId),
      {
        type: 'MdfClaimIdReserved',
        data: { claimId: data.claimId, requestId: data.requestId, partnerId: request.partnerId, period: request.period, fundStreamId: request.fundStreamId },
      },
      (fund) => fund.status === 'open' && fund.claims.has(data.claimId),
    );
    return withReservation(reservation, await this.mdf.decideOnFund(ctx, request.fundStreamId, command, complete));
  }
}

@CommandHandler(MdfClaimActionCommand)
export class MdfClaimActionHandler implements ICommandHandler<MdfClaimActionCommand, CommandOutcome> {
  constructor(@Inject(MdfStreams) private readonly mdf: MdfStreams) {}

  async execute({ ctx, command }: MdfClaimActionCommand): Promise<CommandOutcome> {
    const { fundStreamId: fundId } = await this.mdf.claimReservation(command.data.claimId);
    return this.mdf.decideOnFund(ctx, fundId, command);
  }
}

@QueryHandler(ListFundsQuery)
export class ListFundsHandler implements IQueryHandler<ListFundsQuery, { position: bigint; value: FundPage }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  execute(q: ListFundsQuery): Promise<{ position: bigint; value: FundPage }> {
    return this.readModels.read(q.minPosition, (db) => listFunds(db, q.filter));
  }
}
