import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {
  DealRegistrationApproved,
  DealRegistrationExpired,
  DealRegistrationExtended,
  DealRegistrationRejected,
  DealStatus,
} from '#events/deals.js';
import { eventsOf, type Actor } from '#events/envelope.js';
import { requireRegistrableDomain } from '#libs/partners/domain-name.js';
import type { DealPage, DealView } from '#projections/deals/deals.queries.js';
import type { ConflictPage } from '#projections/registration-conflicts/registration-conflicts.queries.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { LedgerIdPipe } from '../http/id.pipe.js';
import { commandResponse } from '../http/responses.js';
import { parseLedgerTime } from '../http/validation.js';
import { Allow, assertPartnerAccess, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { ProblemException } from '../platform/problem.js';
import { ReasonDto } from '../partners/partners.dto.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { CustomerAccountCommandResponse, CustomerAccountResponse, DealCommandResponse, DealExpirationsResponse, DealPageResponse, DealResponse, RegistrationConflictPageResponse } from './deals.responses.js';
import {
  AliasDomainDto,
  ApproveDealDto,
  DealWonDto,
  ExpireDealsDto,
  ExtendDealDto,
  ListConflictsQueryDto,
  ListDealsQueryDto,
  MarkDirectDto,
  RegisterDealDto,
  RejectDealDto,
} from './deals.dto.js';
import { CustomerAccountCommand, DealActionCommand, ExpireDealsCommand, RegisterDealCommand, type AccountAction, type DealAction } from '#libs/ledger/deals.commands.js';
import { GetCustomerAccountQuery, GetDealQuery, ListConflictsQuery, ListDealsQuery, RegistrationAnswerQuery, type CustomerAccountView, type RegistrationAnswer } from './deals.handlers.js';

/** The status a deal has after the last event recorded for it. */
const STATUS_AFTER: Record<string, DealStatus> = {
  DealRegistrationApproved: 'approved',
  DealRegistrationExtended: 'approved',
  DealRegistrationRejected: 'rejected',
  DealRegistrationExpired: 'expired',
  DealWon: 'won',
  DealLost: 'lost',
};

function eventOf<T extends { readonly type: string; readonly data: { readonly dealId: string } }>(outcome: CommandOutcome, type: T['type'], dealId: string): T['data'] | undefined {
  return eventsOf<T>(outcome.events, type).find((e) => e.data.dealId === dealId)?.data;
}

/** The partnerId whose view of other registrations applies: a partner key's own, none for staff. */
function partnerViewer(actor: Actor): string | undefined {
  return actor.role === 'partner' ? actor.partnerId : undefined;
}

function customerKeyOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : requireRegistrableDomain(value, 'customer');
}

/**
 * Deal registration (API.md, "Deal registration"). Partner keys register deals for themselves and read
 * their own; channel ops decide; auditors read. Finance does not read deals: API.md grants it attribution,
 * MDF, tier and partner reads, and the attribution rule asks the DealDirectory itself (docs/deals.md).
 */
@ApiTags('deals')
@ApiBearerAuth()
@Controller('v1/deals')
export class DealsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: DealCommandResponse })
  @HttpCode(201)
  @Allow('channel-ops')
  @PartnerScoped()
  @ApiOperation({ summary: 'Register a deal: submitted, or conflicted when it overlaps an active registration of the customer' })
  async register(@Body() body: RegisterDealDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    assertPartnerAccess(actor, body.partnerId);
    if (body.registeredAt !== undefined && actor.role === 'partner') {
      throw ProblemException.forbidden('registeredAt (a past registration’s business date) is for channel-ops and admin keys only.');
    }
    const data = {
      dealId: body.dealId,
      partnerId: body.partnerId,
      customer: { name: body.customer.name, domain: body.customer.domain, ...(body.customer.country !== undefined ? { country: body.customer.country } : {}) },
      products: [...body.products],
      estimatedValue: { amountMinor: body.estimatedValue.amountMinor, currency: body.estimatedValue.currency },
      expectedCloseDate: parseLedgerTime(body.expectedCloseDate)!,
      ...(body.registeredAt !== undefined ? { registeredAt: parseLedgerTime(body.registeredAt)! } : {}),
      ...(body.externalRef !== undefined ? { externalRef: body.externalRef } : {}),
    };
    const outcome: CommandOutcome = await this.commands.execute(new RegisterDealCommand(contextOf(req, actor), data));
    const answer = await this.queries.execute<RegistrationAnswerQuery, RegistrationAnswer>(new RegistrationAnswerQuery(outcome, body.dealId, actor.role === 'partner' ? actor.partnerId : undefined));
    return commandResponse(outcome, answer);
  }

  @Post(':id/approve')
  @ApiOkResponse({ type: DealCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({
    summary:
      'Approve a registration: protection until approvedAt + protectionDays; overlapping active registrations are rejected (conflict-lost). 409 registration-conflict (an approved overlap), earlier-registration-pending (earlierDealIds; pass override), direct-account; 422 registration-not-active (status), partner-not-active',
  })
  async approve(@Param('id', LedgerIdPipe) id: string, @Body() body: ApproveDealDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome = await this.act(req, actor, id, {
      type: 'approve',
      ...(body.override !== undefined ? { override: { reason: body.override.reason } } : {}),
      ...(body.externalRef !== undefined ? { externalRef: body.externalRef } : {}),
    });
    const approved = eventOf<DealRegistrationApproved>(outcome, 'DealRegistrationApproved', id);
    return commandResponse(outcome, {
      dealId: id,
      status: 'approved',
      protectedUntil: approved?.protectedUntil,
      programVersion: approved?.programVersion,
      rejected: approved?.rejectedDealIds ?? [],
      resolvedConflicts: approved?.resolvedConflicts ?? [],
      ...(approved?.precedenceOverride !== undefined ? { precedenceOverride: approved.precedenceOverride } : {}),
      ...(approved?.externalRef !== undefined ? { externalRef: approved.externalRef } : {}),
    });
  }

  @Post(':id/reject')
  @ApiOkResponse({ type: DealCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Reject a submitted or conflicted registration, with a reason code (reason alone means other); 422 registration-not-active otherwise' })
  async reject(@Param('id', LedgerIdPipe) id: string, @Body() body: RejectDealDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome = await this.act(req, actor, id, { type: 'reject', reason: body.reason, reasonCode: body.reasonCode ?? 'other' });
    const rejected = eventOf<DealRegistrationRejected>(outcome, 'DealRegistrationRejected', id);
    return commandResponse(outcome, { dealId: id, status: 'rejected', reasonCode: rejected?.reasonCode, resolvedConflicts: rejected?.resolvedConflicts ?? [] });
  }

  @Post(':id/extend')
  @ApiOkResponse({ type: DealCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Extend an approved registration’s protection once, by at most maxExtensionDays, while it is protected; 422 protection-lapsed, partner-not-active' })
  async extend(@Param('id', LedgerIdPipe) id: string, @Body() body: ExtendDealDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome = await this.act(req, actor, id, { type: 'extend', days: body.days });
    const extended = eventOf<DealRegistrationExtended>(outcome, 'DealRegistrationExtended', id);
    return commandResponse(outcome, { dealId: id, status: 'approved', days: extended?.days, protectedUntil: extended?.protectedUntil, programVersion: extended?.programVersion });
  }

  @Post(':id/won')
  @ApiOkResponse({ type: DealCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Record the win of an approved registration that closed while protected and after it was registered; 422 protection-lapsed, closed-before-registration, partner-not-active' })
  won(@Param('id', LedgerIdPipe) id: string, @Body() body: DealWonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const amount = { amountMinor: body.amount.amountMinor, currency: body.amount.currency };
    return this.simple(req, actor, id, { type: 'won', amount, closedAt: parseLedgerTime(body.closedAt)! });
  }

  @Post(':id/lost')
  @ApiOkResponse({ type: DealCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Record the loss of an active registration' })
  lost(@Param('id', LedgerIdPipe) id: string, @Body() body: ReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.simple(req, actor, id, { type: 'lost', reason: body.reason });
  }

  @Get(':id')
  @ApiOkResponse({ type: DealResponse })
  @Allow('channel-ops', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'A deal registration as its read model stands (a partner key sees only its own)' })
  async get(@Param('id', LedgerIdPipe) id: string, @Query() query: PositionQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<DealView> {
    const r: { position: bigint; value: DealView } = await this.queries.execute(new GetDealQuery(id, minPositionOf(query.minPosition), partnerViewer(actor)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  @Get()
  @ApiOkResponse({ type: DealPageResponse })
  @Allow('channel-ops', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'Deal registrations, filtered and paged (a partner key lists only its own)' })
  async list(@Query() query: ListDealsQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<DealPage> {
    const partnerId = visiblePartnerFilter(actor, query.partnerId);
    const customerKey = customerKeyOf(query.customer);
    const filter = {
      ...(partnerId !== undefined ? { partnerId } : {}),
      ...(query.externalRef !== undefined ? { externalRef: query.externalRef } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(customerKey !== undefined ? { customerKey } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    };
    const r: { position: bigint; value: DealPage } = await this.queries.execute(new ListDealsQuery(filter, minPositionOf(query.minPosition), partnerViewer(actor)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  private act(req: FastifyRequest, actor: Actor, dealId: string, action: DealAction): Promise<CommandOutcome> {
    return this.commands.execute(new DealActionCommand(contextOf(req, actor), dealId, action));
  }

  private async simple(req: FastifyRequest, actor: Actor, dealId: string, action: DealAction) {
    const outcome = await this.act(req, actor, dealId, action);
    const last = outcome.events.filter((e) => (e.data as { dealId?: string }).dealId === dealId).pop();
    return commandResponse(outcome, { dealId, ...(last ? { status: STATUS_AFTER[last.type] } : {}) });
  }
}

@ApiTags('deals')
@ApiBearerAuth()
@Controller('v1/deal-expirations')
export class DealExpirationsController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Post()
  @ApiOkResponse({ type: DealExpirationsResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'End what is due at asOf: protection ended, review SLA lapsed, partner terminated; answers { expired: [{ dealId, reason }] }' })
  async expire(@Body() body: ExpireDealsDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new ExpireDealsCommand(contextOf(req, actor), parseLedgerTime(body.asOf)!));
    return commandResponse(outcome, {
      asOf: parseLedgerTime(body.asOf),
      expired: eventsOf<DealRegistrationExpired>(outcome.events, 'DealRegistrationExpired').map(({ data: d }) => ({ dealId: d.dealId, reason: d.reason ?? 'protection-ended' })),
    });
  }
}

@ApiTags('deals')
@ApiBearerAuth()
@Controller('v1/registration-conflicts')
export class RegistrationConflictsController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  @ApiOkResponse({ type: RegistrationConflictPageResponse })
  @Allow('channel-ops', 'auditor')
  @ApiOperation({ summary: 'Registration conflicts: open ones await a decision; resolved ones name their winner when one was approved' })
  async list(@Query() query: ListConflictsQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ConflictPage> {
    const customerKey = customerKeyOf(query.customer);
    const filter = {
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(customerKey !== undefined ? { customerKey } : {}),
      ...(query.dealId !== undefined ? { dealId: query.dealId } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    };
    const r: { position: bigint; value: ConflictPage } = await this.queries.execute(new ListConflictsQuery(filter, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }
}

/**
 * Customer accounts (DOMAIN.md, "Account aliases", "Direct accounts"): channel ops alias domains to an account and
 * mark accounts owned by direct sales. Read from the account's stream itself, so the answer is current. A partner
 * key learns nothing of accounts (404), as it learns nothing of other partners' registrations.
 */
@ApiTags('deals')
@ApiBearerAuth()
@Controller('v1/customer-accounts')
export class CustomerAccountsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post(':customerKey/aliases')
  @ApiOkResponse({ type: CustomerAccountCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Alias another registrable domain to this account: registrations naming it are decided here. 422 alias-has-registrations; 409 already-exists when it is another account’s alias' })
  alias(@Param('customerKey') customerKey: string, @Body() body: AliasDomainDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.account(req, actor, customerKey, { type: 'alias', domain: body.domain });
  }

  @Post(':customerKey/direct')
  @ApiOkResponse({ type: CustomerAccountCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Mark the account as owned by direct sales: registrations are refused (409 direct-account) until released or until' })
  direct(@Param('customerKey') customerKey: string, @Body() body: MarkDirectDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.account(req, actor, customerKey, { type: 'direct', reason: body.reason, ...(body.until !== undefined ? { until: parseLedgerTime(body.until)! } : {}) });
  }

  @Post(':customerKey/direct/release')
  @ApiOkResponse({ type: CustomerAccountCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Release a direct account: partners may register it again' })
  release(@Param('customerKey') customerKey: string, @Body() body: ReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.account(req, actor, customerKey, { type: 'release', reason: body.reason });
  }

  @Get(':customerKey')
  @ApiOkResponse({ type: CustomerAccountResponse })
  @Allow('channel-ops', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'A customer account: its aliases, direct-sales mark and active registrations (an alias answers for its primary account; partner keys: 404)' })
  async get(@Param('customerKey') customerKey: string, @Query() query: PositionQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<CustomerAccountView> {
    if (actor.role === 'partner') throw ProblemException.notFound(`customer account ${customerKey} not found`);
    const r: { position: bigint; value: CustomerAccountView } = await this.queries.execute(new GetCustomerAccountQuery(customerKey, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  private async account(req: FastifyRequest, actor: Actor, customerKey: string, action: AccountAction) {
    const key = requiredCustomerKey(customerKey);
    const outcome: CommandOutcome = await this.commands.execute(new CustomerAccountCommand(contextOf(req, actor), key, action));
    return commandResponse(outcome, { customerKey: key });
  }
}

function requiredCustomerKey(value: string): string {
  const key = customerKeyOf(value);
  if (key === undefined) throw ProblemException.validationFailed('A customer key is required.', [{ path: 'customerKey', message: 'must be a registrable domain' }]);
  return key;
}
