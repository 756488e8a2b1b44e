import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DealCustomer, DealMoney } from '#events/deals.js';
import type { RecordedEvent } from '#events/envelope.js';
import { customerAccountDecider, customerStreamId, type DealCommand } from '#libs/deals/customer-account.js';
import { dealIdStreamId, decideDealIdClaim, foldDealIdClaims } from '#libs/deals/deal-id-claim.js';
import { NotFound, RuleViolation } from '#libs/kernel/errors.js';
import { requireRegistrableDomain } from '#libs/partners/domain-name.js';
import { partnerDecider, partnerStreamId } from '#libs/partners/partner.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { StreamDealDirectory } from './deal-directory.js';
import { CommandPipeline } from './pipeline.js';
import { ProgramInForce } from './program.commands.js';
import { LEDGER_READS, type LedgerReads } from './reads.js';
import { CLOCK, type Clock } from './tokens.js';

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

/**
 * Registration spans two streams: the deal id's claim (unique across customers), then the customer account,
 * which decides overlaps and conflicts race-free. The pipeline decides once on the account, claims, then appends.
 */
@CommandHandler(RegisterDealCommand)
export class RegisterDealHandler implements ICommandHandler<RegisterDealCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ ctx, data }: RegisterDealCommand): Promise<CommandOutcome> {
    const customerKey = requireRegistrableDomain(data.customer.domain, 'customer.domain');
    await this.requireActivePartner(data.partnerId);
    const command: DealCommand = { type: 'RegisterDeal', data: { ...data, customerKey } };
    return this.pipeline.handleWithClaim(ctx, customerStreamId(customerKey), customerAccountDecider, command, {
      streamId: dealIdStreamId(data.dealId),
      decide: async (events) => {
        const state = foldDealIdClaims(events);
        const holder =
          state.status === 'claimed' && state.customerKey !== customerKey
            ? {
                registered: (await this.pipeline.state(customerStreamId(state.customerKey), customerAccountDecider)).registrations.some((r) => r.dealId === data.dealId),
                claimedAgoMs: this.clock.now().getTime() - Date.parse(state.claimedAt),
              }
            : { registered: false, claimedAgoMs: 0 };
        return decideDealIdClaim({ dealId: data.dealId, partnerId: data.partnerId, customerKey }, state, holder);
      },
    });
  }

  /** Read just before the decision, not within its stream: a suspension racing a registration may let that one through (docs/deals.md). */
  private async requireActivePartner(partnerId: string): Promise<void> {
    const partner = await this.pipeline.state(partnerStreamId(partnerId), partnerDecider);
    if (partner.status === 'none') throw new RuleViolation(`partner ${partnerId} is not enrolled`, { partnerId });
    if (partner.status !== 'active') {
      throw new RuleViolation(`partner ${partnerId} is ${partner.status}: only active partners register deals`, { partnerId, partnerStatus: partner.status });
    }
  }
}

@CommandHandler(DealActionCommand)
export class DealActionHandler implements ICommandHandler<DealActionCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(StreamDealDirectory) private readonly directory: StreamDealDirectory,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
  ) {}

  async execute({ ctx, dealId, action }: DealActionCommand): Promise<CommandOutcome> {
    const customerKey = await this.directory.customerOf(dealId);
    if (customerKey === undefined) throw new NotFound(`deal ${dealId} not found`);
    return this.pipeline.handle(ctx, customerStreamId(customerKey), customerAccountDecider, await this.command(dealId, action));
  }

  private async command(dealId: string, action: DealAction): Promise<DealCommand> {
    switch (action.type) {
      case 'approve': {
        const program = await this.programs.get();
        return { type: 'ApproveDeal', data: { dealId, protectionDays: program.protectionDays, programVersion: program.version } };
      }
      case 'extend': {
        const program = await this.programs.get();
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
 * read model (brought to the log's head first) finds the accounts; each account decides again, atomically for
 * itself. A run retried with its Idempotency-Key answers what it recorded the first time.
 */
@CommandHandler(ExpireDealsCommand)
export class ExpireDealsHandler implements ICommandHandler<ExpireDealsCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(LEDGER_READS) private readonly reads: LedgerReads,
  ) {}

  async execute({ ctx, asOf }: ExpireDealsCommand): Promise<CommandOutcome> {
    const earlier = await this.pipeline.earlierRun(ctx);
    if (earlier) return earlier;
    const { position: head, value: customers } = await this.reads.customersWithDueProtection(asOf);
    const events: RecordedEvent[] = [];
    for (const customerKey of customers) {
      const outcome = await this.pipeline.handle(ctx, customerStreamId(customerKey), customerAccountDecider, { type: 'ExpireDeals', data: { asOf } });
      events.push(...outcome.events);
    }
    return { position: events.reduce((p, e) => (e.position > p ? e.position : p), head), events, replayed: false };
  }
}

export const DEAL_COMMAND_HANDLERS = [RegisterDealHandler, DealActionHandler, ExpireDealsHandler];
