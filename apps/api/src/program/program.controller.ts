import { Body, Controller, Get, HttpCode, Inject, Put, Query, Req, Res } from '@nestjs/common';
import { CommandHandler, CommandBus, type ICommandHandler } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '#events/envelope.js';
import { PROGRAM_STREAM_ID, type TierProgramDefined } from '#events/program.js';
import type { EventStore } from '#libs/event-store/port.js';
import { decideProgram, evolveProgram, type DefineProgram } from '#libs/program/program-decider.js';
import { DEFAULT_PROGRAM, type TierProgram } from '#libs/program/program.js';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../ledger/command-executor.js';
import { contextOf, minPositionOf } from '../ledger/http-context.js';
import { commandResponse } from '../ledger/responses.js';
import { ReadModels } from '../ledger/read-models.js';
import { EVENT_STORE } from '../ledger/tokens.js';
import { Allow, CurrentActor } from '../platform/auth/access.js';
import { PositionQueryDto } from '../ledger/query.dto.js';
import { DefineProgramDto } from './program.dto.js';
import { ProgramService } from './program.service.js';
import { ProgramDefinedResponse, TierProgramResponse } from './program.responses.js';

export class DefineProgramCommand {
  constructor(readonly ctx: CommandContext, readonly program: DefineProgram) {}
}

@CommandHandler(DefineProgramCommand)
export class DefineProgramHandler implements ICommandHandler<DefineProgramCommand, CommandOutcome> {
  constructor(@Inject(CommandExecutor) private readonly executor: CommandExecutor) {}

  execute({ ctx, program }: DefineProgramCommand): Promise<CommandOutcome> {
    return this.executor.execute(ctx, {
      streamId: PROGRAM_STREAM_ID,
      initialState: (): TierProgram => DEFAULT_PROGRAM,
      evolve: evolveProgram,
      decide: (s: TierProgram, now: Date) => decideProgram(program, s, now),
    });
  }
}

@ApiTags('program')
@ApiBearerAuth()
@Controller('v1/tier-program')
export class ProgramController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(ProgramService) private readonly programs: ProgramService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ReadModels) private readonly readModels: ReadModels,
  ) {}

  @Put()
  @ApiOkResponse({ type: ProgramDefinedResponse })
  @HttpCode(200)
  @Allow('channel-ops')
  @ApiOperation({ summary: 'Define the next version of the tier program (a no-op when it equals the one in force)' })
  async define(@Body() body: DefineProgramDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const outcome: CommandOutcome = await this.commands.execute(new DefineProgramCommand(contextOf(req, actor), body));
    const defined = outcome.events.find((e) => e.type === 'TierProgramDefined')?.data as TierProgramDefined['data'] | undefined;
    const program = defined ? defined : await this.programs.inForce();
    return commandResponse(outcome, { version: program.version });
  }

  @Get()
  @ApiOkResponse({ type: TierProgramResponse })
  @Allow('channel-ops', 'finance', 'auditor')
  @ApiOperation({ summary: 'The tier program in force (the default one until a program is defined)' })
  async get(@Query() query: PositionQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<TierProgram & { definedAt?: string }> {
    // Read-your-writes like every query: the answer waits (bounded by the consistency timeout) until the ledger
    // has reached minPosition, rather than answering at once from a log that has not.
    const minPosition = minPositionOf(query.minPosition);
    if (minPosition !== undefined) await this.readModels.read(minPosition, () => undefined);
    // Read from the stream itself: always current, so the position announced is the log's head.
    const [events, head] = await Promise.all([this.store.readStream(PROGRAM_STREAM_ID), this.store.headPosition()]);
    void reply.header('Ledger-Position', head.toString());
    const last = events[events.length - 1] as unknown as TierProgramDefined | undefined;
    return last ? { ...last.data } : DEFAULT_PROGRAM;
  }
}
