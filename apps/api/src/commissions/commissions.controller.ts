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
import { Allow, CurrentActor } from '../platform/auth/access.js';
import { DefineCommissionPlanDto } from './commissions.dto.js';
import { GetCommissionPlanQuery, type CommissionPlanView } from './commissions.handlers.js';
import { CommissionPlanDefinedResponse, CommissionPlanResponse } from './commissions.responses.js';

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
