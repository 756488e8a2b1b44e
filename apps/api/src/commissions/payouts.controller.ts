import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { stringify } from 'csv-stringify/sync';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '#events/envelope.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { CreatePayoutRunCommand, PayoutRunActionCommand } from '#libs/ledger/payouts.commands.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { LedgerIdPipe } from '../http/id.pipe.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { commandResponse } from '../http/responses.js';
import { parseLedgerTime } from '../http/validation.js';
import { EmptyDto, ReasonDto } from '../partners/partners.dto.js';
import { wantsCsv } from '../attribution/attribution.controller.js';
import { Allow, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { CreatePayoutRunDto, ListPayoutRunsQueryDto, MarkPayoutLinePaidDto } from './payouts.dto.js';
import { GetPayoutRunQuery, ListPayoutRunsQuery, type PayoutRunView } from './payouts.handlers.js';
import { PayoutRunCommandResponse, PayoutRunListResponse, PayoutRunResponse } from './payouts.responses.js';

const LINE_COLUMNS = ['payoutId', 'asOf', 'runStatus', 'partnerId', 'kind', 'amountMinor', 'currency', 'status', 'paidAt', 'reference'];

/** Finance's export of a run: one row per line (`kind: line`) and per carried-forward balance (`kind: carried-forward`). */
function linesCsv(reply: FastifyReply, run: PayoutRunView): string {
  void reply.header('Vary', 'Accept');
  void reply.type('text/csv; charset=utf-8');
  const base = { payoutId: run.payoutId, asOf: run.asOf, runStatus: run.status };
  const rows = [
    ...run.lines.map((l) => ({ ...base, partnerId: l.partnerId, kind: 'line', amountMinor: l.amountMinor, currency: l.currency, status: l.status, paidAt: l.paidAt ?? '', reference: l.reference ?? '' })),
    ...run.carriedForward.map((c) => ({ ...base, partnerId: c.partnerId, kind: 'carried-forward', amountMinor: c.amountMinor, currency: c.currency, status: c.reason, paidAt: '', reference: '' })),
  ];
  return stringify(rows, { header: true, columns: LINE_COLUMNS, record_delimiter: 'windows' });
}

/** Payout runs (DOMAIN.md, "Commissions and payouts (v2)"): finance (and admin) act; partner keys read their own lines. */
@ApiTags('commissions')
@ApiBearerAuth()
@Controller('v1/payouts')
export class PayoutsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: PayoutRunCommandResponse })
  @HttpCode(201)
  @Allow('finance')
  @ApiOperation({
    summary: 'Create a payout run for asOf (PayoutRunCreated): one line per partner with a payable balance at or above the minimum; the rest carries forward',
    description: 'One run awaits approval at a time: another → 409 `payout-run-pending`. An accrual is in at most one run that is not cancelled.',
  })
  async create(@Body() body: CreatePayoutRunDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new CreatePayoutRunCommand(contextOf(req, actor), { payoutId: body.payoutId, asOf: parseLedgerTime(body.asOf)! }));
    return commandResponse(outcome, { run: await this.run(body.payoutId, actor) });
  }

  @Post(':id/approve')
  @ApiOkResponse({ type: PayoutRunCommandResponse })
  @HttpCode(200)
  @Allow('finance')
  @ApiOperation({ summary: 'Approve a run (PayoutRunApproved); approving it again is a no-op' })
  async approve(@Param('id', LedgerIdPipe) id: string, @Body() _body: EmptyDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new PayoutRunActionCommand(contextOf(req, actor), { type: 'ApprovePayoutRun', data: { payoutId: id } }));
    return commandResponse(outcome, { run: await this.run(id, actor) });
  }

  @Post(':id/cancel')
  @ApiOkResponse({ type: PayoutRunCommandResponse })
  @HttpCode(200)
  @Allow('finance')
  @ApiOperation({ summary: 'Cancel a run before approval (PayoutRunCancelled): its accruals are free for a later run; after approval → 422' })
  async cancel(@Param('id', LedgerIdPipe) id: string, @Body() body: ReasonDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new PayoutRunActionCommand(contextOf(req, actor), { type: 'CancelPayoutRun', data: { payoutId: id, reason: body.reason } }));
    return commandResponse(outcome, { run: await this.run(id, actor) });
  }

  @Post(':id/lines/:partnerId/paid')
  @ApiOkResponse({ type: PayoutRunCommandResponse })
  @HttpCode(200)
  @Allow('finance')
  @ApiOperation({ summary: "Mark a partner's line of an approved run paid with its external reference (PayoutLinePaid); twice → 409 `already-paid`" })
  async paid(
    @Param('id', LedgerIdPipe) id: string,
    @Param('partnerId', LedgerIdPipe) partnerId: string,
    @Body() body: MarkPayoutLinePaidDto,
    @Req() req: FastifyRequest,
    @CurrentActor() actor: Actor,
  ) {
    const command = { type: 'MarkPayoutLinePaid' as const, data: { payoutId: id, partnerId, paidAt: parseLedgerTime(body.paidAt)!, reference: body.reference } };
    const outcome: CommandOutcome = await this.commands.execute(new PayoutRunActionCommand(contextOf(req, actor), command));
    return commandResponse(outcome, { run: await this.run(id, actor) });
  }

  @Get(':id')
  @ApiOkResponse({ type: PayoutRunResponse })
  @Allow('finance', 'auditor')
  @PartnerScoped()
  @ApiProduces('application/json', 'text/csv')
  @ApiOperation({
    summary: 'A payout run, its lines and their state (a partner key: its own line only; a run without it → 404)',
    description: '`Accept: text/csv` answers the lines and carried-forward balances as CSV for finance (a header row, one row each).',
  })
  async get(
    @Param('id', LedgerIdPipe) id: string,
    @Query() query: PositionQueryDto,
    @Req() req: FastifyRequest,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PayoutRunView | string> {
    const r = await this.queries.execute<GetPayoutRunQuery, { position: bigint; value: PayoutRunView }>(new GetPayoutRunQuery(id, actor, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return wantsCsv(req.headers.accept) ? linesCsv(reply, r.value) : r.value;
  }

  @Get()
  @ApiOkResponse({ type: PayoutRunListResponse })
  @Allow('finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'Payout runs in creation order, by status and partner (a partner key: the runs with its line or carry-forward, only those)' })
  async list(@Query() query: ListPayoutRunsQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    const partnerId = visiblePartnerFilter(actor, query.partnerId);
    const r = await this.queries.execute<ListPayoutRunsQuery, { position: bigint; value: { items: PayoutRunView[]; nextCursor: string | null } }>(new ListPayoutRunsQuery(query.status, partnerId, { ...(query.limit !== undefined ? { limit: query.limit } : {}), ...(query.cursor !== undefined ? { cursor: query.cursor } : {}) }, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  private async run(payoutId: string, actor: Actor): Promise<PayoutRunView> {
    return (await this.queries.execute<GetPayoutRunQuery, { position: bigint; value: PayoutRunView }>(new GetPayoutRunQuery(payoutId, actor))).value;
  }
}
