import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, RecordedEvent } from '#events/envelope.js';
import type { MdfEvent } from '#events/mdf.js';
import type { ApproveClaim, ApproveRequest, PayClaim, RejectClaim, RejectRequest } from '#libs/mdf/fund.js';
import type { FundPage } from '#projections/mdf-funds/mdf-funds.queries.js';
import type { CommandOutcome } from '../ledger/command-executor.js';
import { contextOf, minPositionOf } from '../ledger/http-context.js';
import { LedgerIdPipe } from '../ledger/id.pipe.js';
import { commandResponse } from '../ledger/responses.js';
import { parseLedgerTime } from '../ledger/validation.js';
import { ReasonDto } from '../partners/partners.dto.js';
import { Allow, assertPartnerAccess, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { AllocateMdfDto, ListFundsQueryDto, OptionalAmountDto, PayClaimDto, RequestMdfDto, SubmitClaimDto } from './mdf.dto.js';
import { AllocateMdfCommand, ListFundsQuery, MdfClaimActionCommand, MdfRequestActionCommand, RequestMdfCommand, SubmitMdfClaimCommand } from './mdf.handlers.js';
import { MdfCommandResponse, MdfFundPageResponse } from './mdf.responses.js';

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
  const e: RecordedEvent | undefined = [...outcome.events].reverse().find((x) => x.streamId.startsWith('mdf-'));
  return e === undefined ? undefined : ({ type: e.type, data: e.data } as MdfEvent);
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
  @ApiOperation({ summary: 'Claim against an approved request with proof of performance (MdfClaimSubmitted). A partner key claims for itself only.' })
  async claim(@Param('id', LedgerIdPipe) id: string, @Body() body: SubmitClaimDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const data = { requestId: id, claimId: body.claimId, amount: { amountMinor: body.amount.amountMinor, currency: body.amount.currency }, proofOfPerformance: [...body.proofOfPerformance] };
    const outcome: CommandOutcome = await this.commands.execute(new SubmitMdfClaimCommand(contextOf(req, actor), data));
    return answer(outcome, { requestId: id, claimId: body.claimId });
  }

  @Post('claims/:id/approve')
  @ApiOkResponse({ type: MdfCommandResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Approve all (no amount) or part of a submitted claim (MdfClaimApproved)' })
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
  @ApiOperation({ summary: 'MDF funds: allocated, approved, claimed (not rejected), paid and available (allocated − approved)' })
  async funds(@Query() query: ListFundsQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<FundPage> {
    const partnerId = visiblePartnerFilter(actor, query.partnerId);
    const filter = {
      ...(partnerId !== undefined ? { partnerId } : {}),
      ...(query.period !== undefined ? { period: query.period } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    };
    const r: { position: bigint; value: FundPage } = await this.queries.execute(new ListFundsQuery(filter, minPositionOf(query.minPosition)));
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
