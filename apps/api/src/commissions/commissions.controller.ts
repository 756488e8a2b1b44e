import { Body, Controller, Get, HttpCode, Inject, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommissionPlanDefined } from '#events/commissions.js';
import type { Actor } from '#events/envelope.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { DefineCommissionPlanCommand } from '#libs/ledger/commissions.commands.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { commandResponse } from '../http/responses.js';
import { Allow, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { parseLedgerTime } from '../http/validation.js';
import { CommissionBalancesQueryDto, DefineCommissionPlanDto, ListCommissionsQueryDto } from './commissions.dto.js';
import { CommissionBalancesQuery, GetCommissionPlanQuery, ListCommissionsQuery, type CommissionPlanView } from './commissions.handlers.js';
import { CommissionBalancesResponse, CommissionListResponse, CommissionPlanDefinedResponse, CommissionPlanResponse } from './commissions.responses.js';

@ApiTags('commissions')
@ApiBearerAuth()
@Controller('v1/commission-plan')
export class CommissionPlanController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Put()
  @ApiOkResponse({ type: CommissionPlanDefinedResponse })
  @HttpCode(200)
  @Allow('finance')
  @ApiOperation({ summary: 'Define the next version of the commission plan (a no-op when it equals the one in force)' })
  async define(@Body() body: DefineCommissionPlanDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new DefineCommissionPlanCommand(contextOf(req, actor), body));
    const defined = outcome.events.find((e) => e.type === 'CommissionPlanDefined')?.data as CommissionPlanDefined['data'] | undefined;
    const plan = defined ?? (await this.queries.execute<GetCommissionPlanQuery, { value: CommissionPlanView }>(new GetCommissionPlanQuery())).value;
    return commandResponse(outcome, { version: plan.version });
  }

  @Get()
  @ApiOkResponse({ type: CommissionPlanResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @ApiOperation({ summary: 'The commission plan in force (version 0, no rules, until one is defined)' })
  async get(@Query() query: PositionQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<CommissionPlanView> {
    const r = await this.queries.execute<GetCommissionPlanQuery, { position: bigint; value: CommissionPlanView }>(new GetCommissionPlanQuery(minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }
}

/** Accruals, clawbacks and balances (finance, auditor, admin read all; a partner key reads its own). */
@ApiTags('commissions')
@ApiBearerAuth()
@Controller('v1/commissions')
export class CommissionsController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  @ApiOkResponse({ type: CommissionListResponse })
  @Allow('finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'Accruals and clawbacks, in business time order then log order (from/to on recognizedAt or reversedAt, both included), paged' })
  async list(@Query() query: ListCommissionsQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    const partnerId = visiblePartnerFilter(actor, query.partnerId);
    const filter = {
      ...(partnerId !== undefined ? { partnerId } : {}),
      ...(query.from !== undefined ? { from: parseLedgerTime(query.from)! } : {}),
      ...(query.to !== undefined ? { to: parseLedgerTime(query.to)! } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    };
    const r = await this.queries.execute<ListCommissionsQuery, { position: bigint; value: unknown }>(new ListCommissionsQuery(filter, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }

  @Get('balances')
  @ApiOkResponse({ type: CommissionBalancesResponse })
  @Allow('finance', 'auditor')
  @PartnerScoped()
  @ApiOperation({
    summary: 'Commission balances per partner at a business time: accrued, clawed back, held, payable, paid, balance',
    description: 'Replayable as of a record time: `GET /v1/audit/replay?projection=commission-balances&asOf=…&balancesAsOf=…`.',
  })
  async balances(@Query() query: CommissionBalancesQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    const partnerId = visiblePartnerFilter(actor, query.partnerId);
    const asOf = query.asOf !== undefined ? new Date(parseLedgerTime(query.asOf)!) : undefined;
    const r = await this.queries.execute<CommissionBalancesQuery, { position: bigint; value: unknown }>(new CommissionBalancesQuery(partnerId, asOf, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }
}
