import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {
  DealRegistered,
  DealRegistrationApproved,
  DealRegistrationExtended,
  DealRegistrationRejected,
  DealStatus,
} from '#events/deals.js';
import type { Actor, RecordedEvent } from '#events/envelope.js';
import { registrableDomain } from '#libs/partners/domain-name.js';
import type { DealPage, DealView } from '#projections/deals/deals.queries.js';
import type { ConflictPage } from '#projections/registration-conflicts/registration-conflicts.queries.js';
import type { CommandOutcome } from '../ledger/command-executor.js';
import { contextOf, minPositionOf } from '../ledger/http-context.js';
import { LedgerIdPipe } from '../ledger/id.pipe.js';
import { DEAL_DIRECTORY, type DealDirectory } from '../ledger/lookups.js';
import { commandResponse } from '../ledger/responses.js';
import { parseLedgerTime } from '../ledger/validation.js';
import { Allow, assertPartnerAccess, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { ProblemException } from '../platform/problem.js';
import { EmptyDto, ReasonDto } from '../partners/partners.dto.js';
import { PositionQueryDto } from '../ledger/query.dto.js';
import { DealWonDto, ExpireDealsDto, ExtendDealDto, ListConflictsQueryDto, ListDealsQueryDto, RegisterDealDto } from './deals.dto.js';
import { DealCommandResponse, DealExpirationsResponse, DealPageResponse, DealResponse, RegistrationConflictPageResponse } from './deals.responses.js';
import {
  DealActionCommand,
  ExpireDealsCommand,
  GetDealQuery,
  ListConflictsQuery,
  ListDealsQuery,
  RegisterDealCommand,
  type DealAction,
} from './deals.handlers.js';

/** The status a deal has after the last event recorded for it. */
const STATUS_AFTER: Record<string, DealStatus> = {
  DealRegistrationApproved: 'approved',
  DealRegistrationExtended: 'approved',
  DealRegistrationRejected: 'rejected',
  DealRegistrationExpired: 'expired',
  DealWon: 'won',
  DealLost: 'lost',
};

function eventOf<T extends { type: string; data: unknown }>(outcome: CommandOutcome, type: T['type'], dealId: string): T['data'] | undefined {
  const e = outcome.events.find((x: RecordedEvent) => x.type === type && (x.data as { dealId?: string }).dealId === dealId);
  return e?.data as T['data'] | undefined;
}

/** The partnerId whose view of other registrations applies: a partner key's own, none for staff. */
function partnerViewer(actor: Actor): string | undefined {
  return actor.role === 'partner' ? actor.partnerId : undefined;
}

function customerKeyOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const key = registrableDomain(value);
  if (key === undefined) {
    throw ProblemException.validationFailed(`${JSON.stringify(value)} has no registrable domain.`, [{ path: 'customer', message: 'must be a domain name under a public suffix, e.g. acme.co.uk' }]);
  }
  return key;
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
    @Inject(DEAL_DIRECTORY) private readonly directory: DealDirectory,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: DealCommandResponse })
  @HttpCode(201)
  @Allow('channel-ops')
  @PartnerScoped()
  @ApiOperation({ summary: 'Register a deal: submitted, or conflicted when it overlaps an active registration of the customer' })
  async register(@Body() body: RegisterDealDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    assertPartnerAccess(actor, body.partnerId);
    const data = {
      dealId: body.dealId,
      partnerId: body.partnerId,
      customer: { name: body.customer.name, domain: body.customer.domain, ...(body.customer.country !== undefined ? { country: body.customer.country } : {}) },
      products: [...body.products],
      estimatedValue: { amountMinor: body.estimatedValue.amountMinor, currency: body.estimatedValue.currency },
      expectedCloseDate: parseLedgerTime(body.expectedCloseDate)!,
    };
    const outcome: CommandOutcome = await this.commands.execute(new RegisterDealCommand(contextOf(req, actor), data));
    const registered = eventOf<DealRegistered>(outcome, 'DealRegistered', body.dealId);
    let conflictsWith = registered?.conflictsWith ?? [];
    let conflictIds = registered?.conflicts.map((c) => c.conflictId) ?? [];
    if (actor.role === 'partner' && conflictsWith.length > 0) {
      // A partner key learns that its registration is conflicted, not whose registrations it collides with.
      const owners = await Promise.all(conflictsWith.map(async (dealId) => ((await this.directory.find(dealId))?.partnerId === actor.partnerId ? dealId : undefined)));
      conflictsWith = owners.filter((id): id is string => id !== undefined);
      conflictIds = [];
    }
    return commandResponse(outcome, {
      dealId: body.dealId,
      status: registered?.status,
      customerKey: registered?.customerKey,
      conflictsWith,
      conflictIds,
    });
  }

  @Post(':id/approve')
  @ApiOkResponse({ type: DealCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Approve a registration: protection until approvedAt + protectionDays; overlapping active registrations are rejected (conflict-lost)' })
  async approve(@Param('id', LedgerIdPipe) id: string, @Body() _body: EmptyDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome = await this.act(req, actor, id, { type: 'approve' });
    const approved = eventOf<DealRegistrationApproved>(outcome, 'DealRegistrationApproved', id);
    return commandResponse(outcome, {
      dealId: id,
      status: 'approved',
      protectedUntil: approved?.protectedUntil,
      programVersion: approved?.programVersion,
      rejected: approved?.rejectedDealIds ?? [],
      resolvedConflicts: approved?.resolvedConflicts ?? [],
    });
  }

  @Post(':id/reject')
  @ApiOkResponse({ type: DealCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Reject a submitted or conflicted registration' })
  async reject(@Param('id', LedgerIdPipe) id: string, @Body() body: ReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome = await this.act(req, actor, id, { type: 'reject', reason: body.reason });
    const rejected = eventOf<DealRegistrationRejected>(outcome, 'DealRegistrationRejected', id);
    return commandResponse(outcome, { dealId: id, status: 'rejected', resolvedConflicts: rejected?.resolvedConflicts ?? [] });
  }

  @Post(':id/extend')
  @ApiOkResponse({ type: DealCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Extend an approved registration’s protection once, by at most maxExtensionDays' })
  async extend(@Param('id', LedgerIdPipe) id: string, @Body() body: ExtendDealDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome = await this.act(req, actor, id, { type: 'extend', days: body.days });
    const extended = eventOf<DealRegistrationExtended>(outcome, 'DealRegistrationExtended', id);
    return commandResponse(outcome, { dealId: id, status: 'approved', days: extended?.days, protectedUntil: extended?.protectedUntil, programVersion: extended?.programVersion });
  }

  @Post(':id/won')
  @ApiOkResponse({ type: DealCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Record the win of an approved registration that closed while protected' })
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
    // Another partner's deal is invisible, not forbidden: its existence is not disclosed.
    if (actor.role === 'partner' && r.value.partnerId !== actor.partnerId) throw ProblemException.notFound(`deal ${id} not found`);
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
  @ApiOperation({ summary: 'Expire approved registrations whose protection ended before asOf without a win or loss' })
  async expire(@Body() body: ExpireDealsDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new ExpireDealsCommand(contextOf(req, actor), parseLedgerTime(body.asOf)!));
    return commandResponse(outcome, {
      asOf: parseLedgerTime(body.asOf),
      expired: outcome.events.filter((e) => e.type === 'DealRegistrationExpired').map((e) => (e.data as { dealId: string }).dealId),
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
