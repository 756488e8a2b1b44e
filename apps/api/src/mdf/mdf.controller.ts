import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { stringify } from 'csv-stringify/sync';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { eventsOf, type Actor } from '#events/envelope.js';
import { MDF_EVENT_TYPES, type MdfEvent } from '#events/mdf.js';
import type { ApproveClaim, ApproveRequest, PayClaim, RejectClaim, RejectRequest } from '#libs/mdf/fund.js';
import type { FundPage } from '#projections/mdf-funds/mdf-funds.queries.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { LedgerIdPipe } from '../http/id.pipe.js';
import { commandResponse } from '../http/responses.js';
import { parseLedgerTime } from '../http/validation.js';
import { ReasonDto } from '../partners/partners.dto.js';
import { Allow, assertPartnerAccess, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { wantsCsv } from '../attribution/attribution.controller.js';
import {
  AllocateMdfDto,
  BudgetListDto,
  ListBudgetsQueryDto,
  ListFundsQueryDto,
  MdfRequestViewDto,
  OptionalAmountDto,
  PayClaimDto,
  ReleaseMdfDto,
  RequestMdfDto,
  SetBudgetDto,
  SubmitClaimDto,
} from './mdf.dto.js';
import {
  AllocateMdfCommand,
  MdfClaimActionCommand,
  MdfRequestActionCommand,
  ReleaseMdfCommand,
  RequestMdfCommand,
  SetMdfBudgetCommand,
  SubmitMdfClaimCommand,
} from '#libs/ledger/mdf.commands.js';
import type { MdfApprovalReleased } from '#events/mdf.js';
import { PERIOD_PATTERN } from '#libs/mdf/fund.js';
import { invalidField } from '#libs/kernel/input.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { GetMdfRequestQuery, ListBudgetsQuery, ListFundsQuery, type MdfRequestView } from './mdf.handlers.js';
import { MdfBudgetSetResponse, MdfCommandResponse, MdfFundPageResponse, MdfReleaseRunResponse } from './mdf.responses.js';

const STATUS_AFTER: Readonly<Record<string, string>> = {
  MdfRequested: 'requested',
  MdfApproved: 'approved',
  MdfRequestRejected: 'rejected',
  MdfClaimSubmitted: 'submitted',
  MdfClaimApproved: 'approved',
  MdfClaimRejected: 'rejected',
  MdfClaimPaid: 'paid',
};


/** The fund event a command appended (reservations are bookkeeping), for the answer's own fields. */
function fundEvent(outcome: CommandOutcome): MdfEvent | undefined {
  return eventsOf<MdfEvent>(outcome.events, MDF_EVENT_TYPES).reverse().find((x) => x.streamId.startsWith('mdf-'));
}

function answer(outcome: CommandOutcome, ids: Record<string, string>) {
  const e = fundEvent(outcome);
  if (e === undefined) return commandResponse(outcome, ids);
  const d = e.data as { partnerId: string; period: string; requestId?: string; claimId?: string; amount?: { amountMinor: number; currency: string } };
  return commandResponse(outcome, {
    ...ids,
    ...(d.requestId !== undefined ? { requestId: d.requestId } : {}),
    ...(d.claimId !== undefined ? { claimId: d.claimId } : {}),
    partnerId: d.partnerId,
    period: d.period,
    ...(STATUS_AFTER[e.type] !== undefined ? { status: STATUS_AFTER[e.type] } : {}),
    ...(d.amount !== undefined ? { amount: d.amount } : {}),
  });
}

const FUND_COLUMNS = ['partnerId', 'period', 'currency', 'allocatedMinor', 'approvedMinor', 'releasedMinor', 'claimedMinor', 'paidMinor', 'availableMinor'];
const BUDGET_COLUMNS = ['period', 'currency', 'budgetMinor', 'allocatedMinor', 'remainingMinor'];

/** Finance's exports: a header row with the JSON field names, one row per item, RFC 4180 quoting (csv-stringify). */
function csv(reply: FastifyReply, items: readonly object[], columns: string[]): string {
  void reply.header('Vary', 'Accept');
  void reply.type('text/csv; charset=utf-8');
  return stringify(items as Record<string, unknown>[], { header: true, columns, record_delimiter: 'windows' });
}

@ApiTags('mdf')
@ApiBearerAuth()
@Controller('v1/mdf')
export class MdfController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post('allocations')
  @ApiCreatedResponse({ type: MdfCommandResponse })
  @HttpCode(201)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Allocate MDF to an active, MDF-eligible partner for a quarter (MdfFundsAllocated)' })
  async allocate(@Body() body: AllocateMdfDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const data = { partnerId: body.partnerId, period: body.period, amount: { amountMinor: body.amount.amountMinor, currency: body.amount.currency } };
    const outcome: CommandOutcome = await this.commands.execute(new AllocateMdfCommand(contextOf(req, actor), data));
    return answer(outcome, {});
  }

  @Post('requests')
  @ApiCreatedResponse({ type: MdfCommandResponse })
  @HttpCode(201)
  @Allow('channel-ops')
  @PartnerScoped()
  @ApiOperation({ summary: 'Request MDF from a fund (MdfRequested); more than available → 422. A partner key requests for itself only.' })
  async request(@Body() body: RequestMdfDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    assertPartnerAccess(actor, body.partnerId);
    const data = {
      requestId: body.requestId,
      partnerId: body.partnerId,
      period: body.period,
      activity: body.activity,
      amount: { amountMinor: body.amount.amountMinor, currency: body.amount.currency },
      ...(body.activityEndsAt !== undefined ? { activityEndsAt: parseLedgerTime(body.activityEndsAt)! } : {}),
    };
    const outcome: CommandOutcome = await this.commands.execute(new RequestMdfCommand(contextOf(req, actor), data));
    return answer(outcome, { requestId: body.requestId });
  }

  @Post('requests/:id/approve')
  @ApiOkResponse({ type: MdfCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Approve all (no amount) or part of a request (MdfApproved); more than requested or available → 422' })
  approve(@Param('id', LedgerIdPipe) id: string, @Body() body: OptionalAmountDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const command: ApproveRequest = { type: 'ApproveRequest', data: { requestId: id, ...(body.amount !== undefined ? { amount: { ...body.amount } } : {}) } };
    return this.requestAction(req, actor, command);
  }

  @Post('requests/:id/reject')
  @ApiOkResponse({ type: MdfCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Reject a pending request (MdfRequestRejected)' })
  reject(@Param('id', LedgerIdPipe) id: string, @Body() body: ReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.requestAction(req, actor, { type: 'RejectRequest', data: { requestId: id, reason: body.reason } });
  }

  @Post('requests/:id/claims')
  @ApiCreatedResponse({ type: MdfCommandResponse })
  @HttpCode(201)
  @Allow('channel-ops')
  @PartnerScoped()
  @ApiOperation({
    summary: 'Claim against an approved request with proof of performance (MdfClaimSubmitted). A partner key claims for itself only.',
    description: 'Needs an active partner; after the claim deadline → 422 `claim-deadline-passed`.',
  })
  async claim(@Param('id', LedgerIdPipe) id: string, @Body() body: SubmitClaimDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const data = { requestId: id, claimId: body.claimId, amount: { amountMinor: body.amount.amountMinor, currency: body.amount.currency }, proofOfPerformance: [...body.proofOfPerformance] };
    const outcome: CommandOutcome = await this.commands.execute(new SubmitMdfClaimCommand(contextOf(req, actor), data));
    return answer(outcome, { requestId: id, claimId: body.claimId });
  }

  @Post('claims/:id/approve')
  @ApiOkResponse({ type: MdfCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Approve all (no amount) or part of a submitted claim (MdfClaimApproved); approving part frees the rest for later claims on the request' })
  approveClaim(@Param('id', LedgerIdPipe) id: string, @Body() body: OptionalAmountDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const command: ApproveClaim = { type: 'ApproveClaim', data: { claimId: id, ...(body.amount !== undefined ? { amount: { ...body.amount } } : {}) } };
    return this.claimAction(req, actor, command);
  }

  @Post('claims/:id/reject')
  @ApiOkResponse({ type: MdfCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Reject a submitted claim (MdfClaimRejected); its amount can be claimed again' })
  rejectClaim(@Param('id', LedgerIdPipe) id: string, @Body() body: ReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.claimAction(req, actor, { type: 'RejectClaim', data: { claimId: id, reason: body.reason } });
  }

  @Post('claims/:id/pay')
  @ApiOkResponse({ type: MdfCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Pay the approved amount of a claim (MdfClaimPaid)' })
  pay(@Param('id', LedgerIdPipe) id: string, @Body() body: PayClaimDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    return this.claimAction(req, actor, { type: 'PayClaim', data: { claimId: id, paidAt: parseLedgerTime(body.paidAt)!, reference: body.reference } });
  }

  @Get('funds')
  @ApiOkResponse({ type: MdfFundPageResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiProduces('application/json', 'text/csv')
  @ApiOperation({
    summary: 'MDF funds: allocated, approved, released, claimed (what claims hold), paid and available (allocated − approved + released)',
    description: '`Accept: text/csv` answers the page as CSV for finance (a header row, one fund a row with its currency).',
  })
  async funds(@Query() query: ListFundsQueryDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<FundPage | string> {
    const partnerId = visiblePartnerFilter(actor, query.partnerId);
    const filter = {
      ...(partnerId !== undefined ? { partnerId } : {}),
      ...(query.period !== undefined ? { period: query.period } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    };
    const r: { position: bigint; value: FundPage } = await this.queries.execute(new ListFundsQuery(filter, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    if (!wantsCsv(req.headers.accept)) return r.value;
    if (r.value.nextCursor !== null) void reply.header('Next-Cursor', r.value.nextCursor);
    return csv(reply, r.value.items, FUND_COLUMNS);
  }

  @Post('releases')
  @ApiOkResponse({ type: MdfReleaseRunResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Release run: every approval past its claim deadline at `asOf` gives back what no claim holds (MdfApprovalReleased)' })
  async release(@Body() body: ReleaseMdfDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new ReleaseMdfCommand(contextOf(req, actor), parseLedgerTime(body.asOf)!));
    const released = eventsOf<MdfApprovalReleased>(outcome.events, 'MdfApprovalReleased').map(({ data: d }) => ({
      requestId: d.requestId,
      partnerId: d.partnerId,
      period: d.period,
      amountMinor: d.amount.amountMinor,
      currency: d.amount.currency,
    }));
    return commandResponse(outcome, { released });
  }

  @Put('budgets/:period')
  @ApiOkResponse({ type: MdfBudgetSetResponse })
  @HttpCode(200)
  @Allow('finance', 'channel-ops')
  @ApiOperation({ summary: "Set a period's MDF budget in a currency (MdfBudgetSet); below what is allocated → 422 `budget-below-allocated`" })
  async setBudget(@Param('period') period: string, @Body() body: SetBudgetDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    if (!PERIOD_PATTERN.test(period)) throw invalidField('period', 'period must be a quarter, YYYY-Qn (e.g. 2026-Q1)');
    const amount = { amountMinor: body.amount.amountMinor, currency: body.amount.currency };
    const outcome: CommandOutcome = await this.commands.execute(new SetMdfBudgetCommand(contextOf(req, actor), { period, amount }));
    return commandResponse(outcome, { period, amount });
  }

  @Get('budgets')
  @Allow('channel-ops', 'finance', 'auditor')
  @ApiOkResponse({ type: BudgetListDto })
  @ApiProduces('application/json', 'text/csv')
  @ApiOperation({ summary: 'MDF budgets per period and currency, with what is allocated and what remains (`Accept: text/csv`: the same rows as CSV)' })
  async budgets(@Query() query: ListBudgetsQueryDto, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<BudgetListDto | string> {
    const r: { position: bigint; value: BudgetListDto } = await this.queries.execute(new ListBudgetsQuery(query.period, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return wantsCsv(req.headers.accept) ? csv(reply, r.value.items, BUDGET_COLUMNS) : r.value;
  }

  @Get('requests/:id')
  @Allow('channel-ops', 'finance', 'auditor')
  @PartnerScoped()
  @ApiOkResponse({ type: MdfRequestViewDto })
  @ApiOperation({ summary: 'An MDF request: requested, approved, released, claimed, claim approved, paid, and its claim deadline (a partner key: its own only)' })
  async requestView(@Param('id', LedgerIdPipe) id: string, @Query() query: PositionQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<MdfRequestView> {
    const r: { position: bigint; value: MdfRequestView } = await this.queries.execute(new GetMdfRequestQuery(id, actor, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  private async requestAction(req: FastifyRequest, actor: Actor, command: ApproveRequest | RejectRequest) {
    const outcome: CommandOutcome = await this.commands.execute(new MdfRequestActionCommand(contextOf(req, actor), command));
    return answer(outcome, { requestId: command.data.requestId });
  }

  private async claimAction(req: FastifyRequest, actor: Actor, command: ApproveClaim | RejectClaim | PayClaim) {
    const outcome: CommandOutcome = await this.commands.execute(new MdfClaimActionCommand(contextOf(req, actor), command));
    return answer(outcome, { claimId: command.data.claimId });
  }
}
