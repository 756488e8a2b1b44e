import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DealMoney, DealStatus, RejectionReasonCode } from '#events/deals.js';
import type { RecordedEvent } from '#events/envelope.js';
import {
  customerAccountDecider,
  customerStreamId,
  findRegistration,
  isActive,
  registrationsOf,
  type CustomerAccount,
  type DealCommand,
  type PartnerStatusFact,
} from '#libs/deals/customer-account.js';
import {
  aliasedTo,
  claimDealId,
  claimHolderKey,
  customerKeyOf,
  dealIdClaimDecider,
  dealIdStreamId,
  dealRegistrationPolicy,
  dealSlotsDecider,
  dealSlotsStreamId,
  decidingAccount,
  foldDealIdClaims,
  registerDeal,
  takeDealSlot,
  type DealRegistrationPolicy,
  type RegistrationRequest,
} from '#libs/deals/registration.js';
import { NotFound } from '#libs/kernel/errors.js';
import { partnerDecider, partnerStreamId } from '#libs/partners/partner.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { StreamDealDirectory } from './deal-directory.js';
import { CommandPipeline } from './pipeline.js';
import { ProgramInForce } from './program.commands.js';
import { LEDGER_READS, type LedgerReads } from './reads.js';
import { CLOCK, type Clock } from './tokens.js';

/** What a registration names (the canonical times come from `parseLedgerTime`; `registeredAt` from channel ops and admins only). */
export type RegisterDealData = RegistrationRequest;

export class RegisterDealCommand {
  constructor(readonly ctx: CommandContext, readonly data: RegisterDealData) {}
}

/** What the path names and the body adds; the handler fills in the policy in force and the partner's status. */
export type DealAction =
  | { readonly type: 'approve'; readonly override?: { readonly reason: string }; readonly externalRef?: string }
  | { readonly type: 'reject'; readonly reason: string; readonly reasonCode?: RejectionReasonCode }
  | { readonly type: 'extend'; readonly days: number }
  | { readonly type: 'won'; readonly amount: DealMoney; readonly closedAt: string }
  | { readonly type: 'lost'; readonly reason: string };

export class DealActionCommand {
  constructor(readonly ctx: CommandContext, readonly dealId: string, readonly action: DealAction) {}
}

export class ExpireDealsCommand {
  constructor(readonly ctx: CommandContext, readonly asOf: string) {}
}

/** What channel ops decide about a customer account itself. */
export type AccountAction =
  | { readonly type: 'alias'; readonly domain: string }
  | { readonly type: 'direct'; readonly reason: string; readonly until?: string }
  | { readonly type: 'release'; readonly reason: string };

export class CustomerAccountCommand {
  constructor(readonly ctx: CommandContext, readonly customerKey: string, readonly action: AccountAction) {}
}

/** The partner's status now, as a fact for the customer account's decision (read just before it; docs/deals.md). */
async function partnerStatus(pipeline: CommandPipeline, partnerId: string): Promise<PartnerStatusFact> {
  return (await pipeline.state(partnerStreamId(partnerId), partnerDecider)).status;
}

/**
 * Registration spans streams: the deal id's claim (unique across customers), the partner's capacity slot when the
 * program limits open registrations, then the customer account, which decides overlaps, precedence and conflicts
 * race-free. The pipeline decides once on the account, claims, then appends; the rules are libs/deals'
 * (customer-account.ts decides, registration.ts forms the command and decides the claims). A domain aliased to
 * another account is decided on that account.
 */
@CommandHandler(RegisterDealCommand)
export class RegisterDealHandler implements ICommandHandler<RegisterDealCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
  ) {}

  async execute({ ctx, data }: RegisterDealCommand): Promise<CommandOutcome> {
    const named = customerKeyOf(data.customer.domain, 'customer.domain');
    const [policy, status, account] = await Promise.all([
      // The version effective at the registration's business time (a backdated registration: the one of then).
      this.programs.get(data.registeredAt !== undefined ? new Date(data.registeredAt) : undefined).then(dealRegistrationPolicy),
      partnerStatus(this.pipeline, data.partnerId),
      this.pipeline.state(customerStreamId(named), customerAccountDecider),
    ]);
    const register = (customerKey: string) =>
      this.pipeline.handleWithClaim(ctx, customerStreamId(customerKey), customerAccountDecider, registerDeal(data, named, customerKey, policy, status), {
        streamId: dealIdStreamId(data.dealId),
        latestHolds: true,
        related: [dealSlotsStreamId(data.partnerId)],
        decide: (claim) => this.claimDealId(data, customerKey, claim),
        ...(policy.maxOpenRegistrations > 0 ? { alongside: () => this.takeSlot(ctx, data, customerKey, policy) } : {}),
      });
    const primary = decidingAccount(named, account);
    return register(primary).catch((error: unknown) => {
      const aliasOf = aliasedTo(error, primary);
      if (aliasOf === undefined) throw error;
      return register(aliasOf);
    });
  }

  private async claimDealId(data: RegisterDealData, customerKey: string, events: readonly RecordedEvent[]) {
    const claim = foldDealIdClaims(events);
    const holderKey = claimHolderKey(claim, customerKey);
    const holder = holderKey === undefined ? customerAccountDecider.initialState() : await this.pipeline.state(customerStreamId(holderKey), customerAccountDecider);
    const now = this.clock.now();
    return dealIdClaimDecider.decide(claimDealId(data, customerKey, claim, holder, now), claim, now);
  }

  private async takeSlot(ctx: CommandContext, data: RegisterDealData, customerKey: string, policy: DealRegistrationPolicy): Promise<readonly RecordedEvent[]> {
    const slots = await this.pipeline.state(dealSlotsStreamId(data.partnerId), dealSlotsDecider);
    const statusOf = new Map(await Promise.all(slots.held.map(async (s) => [s.dealId, await this.dealStatus(s.dealId)] as const)));
    const command = takeDealSlot(slots, data, customerKey, policy, statusOf, this.clock.now());
    return (await this.pipeline.handle(ctx, dealSlotsStreamId(data.partnerId), dealSlotsDecider, command)).events;
  }

  /** A held slot's registration as it stands in the log now: its claim names the account, the account its status (undefined: it never landed). */
  private async dealStatus(dealId: string): Promise<DealStatus | undefined> {
    const claim = await this.pipeline.state(dealIdStreamId(dealId), dealIdClaimDecider);
    if (claim.status !== 'claimed') return undefined;
    return findRegistration(await this.pipeline.state(customerStreamId(claim.customerKey), customerAccountDecider), dealId)?.status;
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
    const streamId = customerStreamId(customerKey);
    const registration = findRegistration(await this.pipeline.state(streamId, customerAccountDecider), dealId);
    if (registration === undefined) throw new NotFound(`deal ${dealId} not found`);
    const [policy, status] = await Promise.all([this.programs.get().then(dealRegistrationPolicy), partnerStatus(this.pipeline, registration.partnerId)]);
    return this.pipeline.handle(ctx, streamId, customerAccountDecider, command(dealId, action, policy, status));
  }
}

function command(dealId: string, action: DealAction, policy: DealRegistrationPolicy, partnerStatus: PartnerStatusFact): DealCommand {
  const { programVersion, productFamilies } = policy;
  switch (action.type) {
    case 'approve': {
      const { override, externalRef } = action;
      return {
        type: 'ApproveDeal',
        data: { dealId, protectionDays: policy.protectionDays, programVersion, productFamilies, partnerStatus, ...(override ? { override } : {}), ...(externalRef !== undefined ? { externalRef } : {}) },
      };
    }
    case 'extend':
      return { type: 'ExtendDeal', data: { dealId, days: action.days, maxExtensionDays: policy.maxExtensionDays, programVersion, partnerStatus } };
    case 'reject':
      return { type: 'RejectDeal', data: { dealId, reason: action.reason, reasonCode: action.reasonCode ?? 'other', productFamilies } };
    case 'won':
      return { type: 'WinDeal', data: { dealId, amount: action.amount, closedAt: action.closedAt, partnerStatus, productFamilies } };
    case 'lost':
      return { type: 'LoseDeal', data: { dealId, reason: action.reason, productFamilies } };
  }
}

/**
 * An expiry run covers every customer account with something due: an approved registration past its protection,
 * a pending one past the review SLA, an active one of a terminated partner. The read models (brought to the log's
 * head first) find the accounts; each account decides again, atomically for itself, with its partners' statuses
 * read from their streams. A run retried with its Idempotency-Key answers what it recorded the first time.
 */
@CommandHandler(ExpireDealsCommand)
export class ExpireDealsHandler implements ICommandHandler<ExpireDealsCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(LEDGER_READS) private readonly reads: LedgerReads,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
  ) {}

  async execute({ ctx, asOf }: ExpireDealsCommand): Promise<CommandOutcome> {
    const earlier = await this.pipeline.earlierRun(ctx);
    if (earlier) return earlier;
    // The review SLA of the version effective at the run's asOf.
    const policy = dealRegistrationPolicy(await this.programs.get(new Date(asOf)));
    const { position: head, value: customers } = await this.reads.customersWithDueRegistrations(asOf, policy.registrationReviewDays);
    const events: RecordedEvent[] = [];
    for (const customerKey of customers) {
      const streamId = customerStreamId(customerKey);
      const terminatedPartners = await this.terminatedPartners(await this.pipeline.state(streamId, customerAccountDecider));
      const outcome = await this.pipeline.handle(ctx, streamId, customerAccountDecider, {
        type: 'ExpireDeals',
        data: { asOf, registrationReviewDays: policy.registrationReviewDays, terminatedPartners, programVersion: policy.programVersion, productFamilies: policy.productFamilies },
      });
      events.push(...outcome.events);
    }
    return { position: events.reduce((p, e) => (e.position > p ? e.position : p), head), events, replayed: false };
  }

  private async terminatedPartners(account: CustomerAccount): Promise<string[]> {
    const partners = [...new Set(registrationsOf(account).filter(isActive).map((r) => r.partnerId))];
    const statuses = await Promise.all(partners.map((p) => partnerStatus(this.pipeline, p)));
    return partners.filter((_, i) => statuses[i] === 'terminated');
  }
}

/**
 * Aliases and direct-sales marks. An alias is decided on the primary account and claimed on the alias domain's own
 * stream (which must have no active registration, and be no other account's alias): a registration racing the
 * alias collides with the claim on that stream's revision.
 */
@CommandHandler(CustomerAccountCommand)
export class CustomerAccountHandler implements ICommandHandler<CustomerAccountCommand, CommandOutcome> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute({ ctx, customerKey, action }: CustomerAccountCommand): Promise<CommandOutcome> {
    const streamId = customerStreamId(customerKey);
    switch (action.type) {
      case 'alias': {
        const domain = customerKeyOf(action.domain, 'domain');
        return this.pipeline.handleWithClaim(ctx, streamId, customerAccountDecider, { type: 'AliasDomain', data: { customerKey, domain } }, {
          streamId: customerStreamId(domain),
          // The alias domain's account as folded now (at least as recent as the claim's read: a newer one only makes
          // the append at the read revision conflict and decide again).
          decide: async () => {
            const state = await this.pipeline.state(customerStreamId(domain), customerAccountDecider);
            return customerAccountDecider.decide({ type: 'BecomeAlias', data: { customerKey, domain } }, state, this.clock.now());
          },
        });
      }
      case 'direct':
        return this.pipeline.handle(ctx, streamId, customerAccountDecider, { type: 'MarkDirect', data: { customerKey, reason: action.reason, ...(action.until !== undefined ? { until: action.until } : {}) } });
      case 'release':
        return this.pipeline.handle(ctx, streamId, customerAccountDecider, { type: 'ReleaseDirect', data: { customerKey, reason: action.reason } });
    }
  }
}

export const DEAL_COMMAND_HANDLERS = [RegisterDealHandler, DealActionHandler, ExpireDealsHandler, CustomerAccountHandler];
