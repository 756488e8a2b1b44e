import { Body, Controller, Get, HttpCode, Inject, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '#events/envelope.js';
import type { TierProgramDefined } from '#events/program.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { DefineProgramCommand } from '#libs/ledger/program.commands.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { commandResponse } from '../http/responses.js';
import { Allow, CurrentActor } from '../platform/auth/access.js';
import { GetProgramQuery, type ProgramView } from './program.handlers.js';
import { DefineProgramDto } from './program.dto.js';
import { ProgramDefinedResponse, TierProgramScheduleResponse } from './program.responses.js';


@ApiTags('program')
@ApiBearerAuth()
@Controller('v1/tier-program')
export class ProgramController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Put()
  @ApiOkResponse({ type: ProgramDefinedResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Define the next version of the tier program (a no-op when it equals the one in force)' })
  async define(@Body() body: DefineProgramDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new DefineProgramCommand(contextOf(req, actor), body));
    const defined = outcome.events.find((e) => e.type === 'TierProgramDefined')?.data as TierProgramDefined['data'] | undefined;
    if (defined) return commandResponse(outcome, { version: defined.version });
    // A re-send of the last version defined is a no-op: it names that version (in force, or the last pending one).
    const { version, pending } = (await this.queries.execute<GetProgramQuery, { value: ProgramView }>(new GetProgramQuery())).value;
    return commandResponse(outcome, { version: Math.max(version, ...(pending ?? []).map((p) => p.version)) });
  }

  @Get()
  @ApiOkResponse({ type: TierProgramScheduleResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @ApiOperation({ summary: 'The tier program version in force now (the default one until a program is defined), and under `pending` the versions defined to apply from a later effectiveFrom' })
  async get(@Query() query: PositionQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ProgramView> {
    const r = await this.queries.execute<GetProgramQuery, { position: bigint; value: ProgramView }>(new GetProgramQuery(minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }
}
