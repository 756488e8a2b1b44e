import { Inject } from '@nestjs/common';
import { CommandHandler, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { DealCustomer, DealEvent, DealMoney } from '#events/deals.js';
import type { RecordedEvent } from '#events/envelope.js';
import type { EventStore } from '#libs/event-store/port.js';
import { fold } from '#libs/kernel/decider.js';
import { InvalidInput, NotFound, RuleViolation } from '#libs/kernel/errors.js';
import { customerAccountDecider, customerStreamId, type CustomerAccount, type DealCommand } from '#libs/deals/customer-account.js';
import { dealIdStreamId, decideDealIdClaim, foldDealIdClaims } from '#libs/deals/deal-id-claim.js';
import { registrableDomain } from '#libs/partners/domain-name.js';
import { evolvePartner, initialPartnerState, partnerStreamId } from '#libs/partners/partner.js';
import { dealAsSeenBy, getDeal, listDeals, customersWithDueProtection, type DealFilter, type DealPage, type DealView } from '#projections/deals/deals.queries.js';
import { listConflicts, type ConflictFilter, type ConflictPage } from '#projections/registration-conflicts/registration-conflicts.queries.js';
import { CommandExecutor, ConcurrencyConflictError, type CommandContext, type CommandOutcome } from '../ledger/command-executor.js';
import type { FoldedStream } from '../ledger/stream-states.js';
import { ReadModels } from '../ledger/read-models.js';
import { CLOCK, EVENT_STORE, type Clock } from '../ledger/tokens.js';
import { ProgramService } from '../program/program.service.js';
import { StreamDealDirectory } from './deal-directory.js';

export interface RegisterDealData {
  readonly dealId: string;
  readonly partnerId: string;
  readonly customer: DealCustomer;
  readonly products: readonly string[];
  readonly estimatedValue: DealMoney;
  /** Canonical (`parseLedgerTime`). */
  readonly expectedCloseDate: string;
}

export class RegisterDealCommand {
  constructor(readonly ctx: CommandContext, readonly data: RegisterDealData) {}
}

/** What the path names and the body adds; the handler fills in the policy in force. */
export type DealAction =
  | { readonly type: 'approve' }
  | { readonly type: 'reject'; readonly reason: string }
  | { readonly type: 'extend'; readonly days: number }
  | { readonly type: 'won'; readonly amount: DealMoney; readonly closedAt: string }
  | { readonly type: 'lost'; readonly reason: string };

export class DealActionCommand {
  constructor(readonly ctx: CommandContext, readonly dealId: string, readonly action: DealAction) {}
}

export class ExpireDealsCommand {
  constructor(readonly ctx: CommandContext, readonly asOf: string) {}
}

/** `viewer`: the partnerId of a partner key, whose answers name no other partner's deals. */
export class GetDealQuery {
  constructor(readonly dealId: string, readonly minPosition?: bigint, readonly viewer?: string) {}
}

export class ListDealsQuery {
  constructor(readonly filter: DealFilter, readonly minPosition?: bigint, readonly viewer?: string) {}
}

export class ListConflictsQuery {
  constructor(readonly filter: ConflictFilter, readonly minPosition?: bigint) {}
}

/**
 * Every registration of a customer competes for one stream, so a burst of them retries more than the
 * executor's own bounded loop allows; each round re-reads and re-decides, so this is only patience.
 */
const ROUNDS = 8;

async function executeOnAccount(
  executor: CommandExecutor,
  ctx: CommandContext,
  customerKey: string,
  command: DealCommand,
  options: { isComplete?: (events: readonly RecordedEvent[]) => boolean; known?: FoldedStream<CustomerAccount> } = {},
): Promise<CommandOutcome> {
  const stream = {
    streamId: customerStreamId(customerKey),
    initialState: customerAccountDecider.initialState,
    evolve: customerAccountDecider.evolve,
    decide: (s: CustomerAccount, now: Date) => customerAccountDecider.decide(command, s, now),
  };
  for (let round = 1; ; round++) {
    try {
      // Only the first round may start from the caller's fold: a later one follows a conflict.
      return await executor.execute(ctx, stream, round === 1 ? options : { ...options, known: undefined });
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError) || round >= ROUNDS) throw error;
    }
  }
}

/**
 * Registration spans two streams: the deal id's claim (unique across customers, decided against the claim
 * stream's revision), then the customer account. Refusals that do not depend on the account come first,
 * so that a refused registration appends nothing; a run that crashed between the two is finished by its
 * retry, which finds its own claim.
 */
@CommandHandler(RegisterDealCommand)
export class RegisterDealHandler implements ICommandHandler<RegisterDealCommand, CommandOutcome> {
  constructor(
    @Inject(CommandExecutor) private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ ctx, data }: RegisterDealCommand): Promise<CommandOutcome> {
    const registered = (events: readonly RecordedEvent[]) => events.some((e) => e.type === 'DealRegistered');
    const earlier = await this.executor.findEarlier(ctx, registered);
    if (earlier) return earlier;
    const customerKey = registrableDomain(data.customer.domain);
    if (customerKey === undefined) {
      throw new InvalidInput(`${JSON.stringify(data.customer.domain)} has no registrable domain`, {}, [
        { path: 'customer.domain', message: 'must be a domain name under a public suffix, e.g. acme.co.uk' },
      ]);
    }
    await this.requireActivePartner(data.partnerId);
    const command: DealCommand = { type: 'RegisterDeal', data: { ...data, customerKey } };
    const account = await this.refusalsBeforeClaim(ctx, customerKey, command);
    const claim = await this.claimDealId(ctx, data.dealId, data.partnerId, customerKey);
    // The account as the refusal check folded it: its append is checked against that revision (a registration
    // of the same customer in between makes it read again), so it need not be read a second time.
    const outcome = await executeOnAccount(this.executor, ctx, customerKey, command, { isComplete: registered, ...(account ? { known: account } : {}) });
    return { ...outcome, events: [...claim, ...outcome.events.filter((e) => !claim.some((c) => c.eventId === e.eventId))] };
  }

  /**
   * The registration decided against the customer account as it stands, without appending: what the account
   * refuses (invalid data, a deal id it already holds) is refused before the deal id is claimed, so a refused
   * registration appends nothing. A run that already wrote to the account (its own events are there) is
   * finished by the append step instead.
   */
  private async refusalsBeforeClaim(ctx: CommandContext, customerKey: string, command: DealCommand): Promise<FoldedStream<CustomerAccount> | undefined> {
    const { state, revision, mine } = await this.executor.load(ctx, customerStreamId(customerKey), customerAccountDecider.initialState, customerAccountDecider.evolve);
    if (mine.length) return undefined;
    customerAccountDecider.decide(command, state, this.clock.now());
    return { state, revision };
  }

  /**
   * Read just before the decision, not within its stream: a suspension racing a registration may let that one
   * registration through (docs/deals.md).
   */
  private async requireActivePartner(partnerId: string): Promise<void> {
    const { state: partner } = await this.executor.states.fold(partnerStreamId(partnerId), initialPartnerState, evolvePartner);
    if (partner.status === 'none') throw new RuleViolation(`partner ${partnerId} is not enrolled`, { partnerId });
    if (partner.status !== 'active') {
      throw new RuleViolation(`partner ${partnerId} is ${partner.status}: only active partners register deals`, { partnerId, partnerStatus: partner.status });
    }
  }

  private async claimDealId(ctx: CommandContext, dealId: string, partnerId: string, customerKey: string): Promise<readonly RecordedEvent[]> {
    return this.executor.claim(
      ctx,
      dealIdStreamId(dealId),
      async (events) => {
        const state = foldDealIdClaims(events);
        let holder = { registered: false, claimedAgoMs: 0 };
        if (state.status === 'claimed' && state.customerKey !== customerKey) {
          const account = fold(
            customerAccountDecider.evolve,
            customerAccountDecider.initialState(),
            (await this.store.readStream(customerStreamId(state.customerKey))) as unknown as DealEvent[],
          );
          holder = {
            registered: account.registrations.some((r) => r.dealId === dealId),
            claimedAgoMs: this.clock.now().getTime() - Date.parse(state.claimedAt),
          };
        }
        return decideDealIdClaim({ dealId, partnerId, customerKey }, state, holder);
      },
      `deal id ${dealId} is being registered concurrently; retry`,
    );
  }
}

@CommandHandler(DealActionCommand)
export class DealActionHandler implements ICommandHandler<DealActionCommand, CommandOutcome> {
  constructor(
    @Inject(CommandExecutor) private readonly executor: CommandExecutor,
    @Inject(StreamDealDirectory) private readonly directory: StreamDealDirectory,
    @Inject(ProgramService) private readonly programs: ProgramService,
  ) {}

  async execute({ ctx, dealId, action }: DealActionCommand): Promise<CommandOutcome> {
    const customerKey = await this.directory.customerOf(dealId);
    if (customerKey === undefined) throw new NotFound(`deal ${dealId} not found`);
    return executeOnAccount(this.executor, ctx, customerKey, await this.command(dealId, action));
  }

  private async command(dealId: string, action: DealAction): Promise<DealCommand> {
    switch (action.type) {
      case 'approve': {
        const program = await this.programs.inForce();
        return { type: 'ApproveDeal', data: { dealId, protectionDays: program.protectionDays, programVersion: program.version } };
      }
      case 'extend': {
        const program = await this.programs.inForce();
        return { type: 'ExtendDeal', data: { dealId, days: action.days, maxExtensionDays: program.maxExtensionDays, programVersion: program.version } };
      }
      case 'reject':
        return { type: 'RejectDeal', data: { dealId, reason: action.reason } };
      case 'won':
        return { type: 'WinDeal', data: { dealId, amount: action.amount, closedAt: action.closedAt } };
      case 'lost':
        return { type: 'LoseDeal', data: { dealId, reason: action.reason } };
    }
  }
}

/**
 * An expiry run covers every customer account with an approved registration past its protection. The deals
 * read model (brought to the log's head first) finds the accounts; each account decides again, atomically
 * for itself. A run retried with its Idempotency-Key answers what it recorded the first time.
 */
@CommandHandler(ExpireDealsCommand)
export class ExpireDealsHandler implements ICommandHandler<ExpireDealsCommand, CommandOutcome> {
  constructor(
    @Inject(CommandExecutor) private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ReadModels) private readonly readModels: ReadModels,
  ) {}

  async execute({ ctx, asOf }: ExpireDealsCommand): Promise<CommandOutcome> {
    const earlier = await this.executor.findEarlier(ctx);
    if (earlier) return earlier;
    const head = await this.store.headPosition();
    const { value: customers } = await this.readModels.read(head, (db) => customersWithDueProtection(db, asOf));
    const events: RecordedEvent[] = [];
    for (const customerKey of customers) {
      // Earlier accounts of this very run carry its command id: only this account's own events count.
      const outcome = await executeOnAccount(this.executor, ctx, customerKey, { type: 'ExpireDeals', data: { asOf } }, { isComplete: () => false });
      events.push(...outcome.events);
    }
    const position = events.length ? events.reduce((p, e) => (e.position > p ? e.position : p), 0n) : await this.store.headPosition();
    return { position, events, replayed: false };
  }
}

@QueryHandler(GetDealQuery)
export class GetDealHandler implements IQueryHandler<GetDealQuery, { position: bigint; value: DealView }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  async execute(q: GetDealQuery): Promise<{ position: bigint; value: DealView }> {
    const r = await this.readModels.read(q.minPosition, (db) => {
      const view = getDeal(db, q.dealId);
      return view !== undefined && q.viewer !== undefined ? dealAsSeenBy(db, view, q.viewer) : view;
    });
    if (!r.value) throw new NotFound(`deal ${q.dealId} not found`);
    return { position: r.position, value: r.value };
  }
}

@QueryHandler(ListDealsQuery)
export class ListDealsHandler implements IQueryHandler<ListDealsQuery, { position: bigint; value: DealPage }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  execute(q: ListDealsQuery): Promise<{ position: bigint; value: DealPage }> {
    return this.readModels.read(q.minPosition, (db) => {
      const page = listDeals(db, q.filter);
      const viewer = q.viewer;
      return viewer === undefined ? page : { ...page, items: page.items.map((d) => dealAsSeenBy(db, d, viewer)) };
    });
  }
}

@QueryHandler(ListConflictsQuery)
export class ListConflictsHandler implements IQueryHandler<ListConflictsQuery, { position: bigint; value: ConflictPage }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  execute(q: ListConflictsQuery): Promise<{ position: bigint; value: ConflictPage }> {
    return this.readModels.read(q.minPosition, (db) => listConflicts(db, q.filter));
  }
}
