import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiExtraModels, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ExchangeRatePublishedResponse } from './exchange-rates.responses.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { eventsOf, type Actor } from '#events/envelope.js';
import type { ExchangeRatePublished } from '#events/exchange-rates.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { PublishExchangeRateCommand } from '#libs/ledger/exchange-rates.commands.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { commandResponse } from '../http/responses.js';
import { parseLedgerTime } from '../http/validation.js';
import { Allow, CurrentActor } from '../platform/auth/access.js';
import { ListExchangeRatesQuery, type ExchangeRatesAnswer } from './exchange-rates.handlers.js';
import { ExchangeRateDto, ExchangeRateListDto, ExchangeRateQueryDto, PublishExchangeRateDto } from './exchange-rates.dto.js';

/** Exchange rates (API.md v2); the reads are ListExchangeRatesHandler's. */
@ApiTags('exchange rates')
@ApiBearerAuth()
@Controller('v1/exchange-rates')
export class ExchangeRatesController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: ExchangeRatePublishedResponse })
  @HttpCode(201)
  @Allow('finance')
  @ApiOperation({
    summary: 'Publish a rate against the reporting currency (ExchangeRatePublished)',
    description: 'A later publication for the same date and pair supersedes the earlier one for decisions recorded after it; the same rate again is a no-op.',
  })
  async publish(@Body() body: PublishExchangeRateDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const data = { currency: body.currency, date: parseLedgerTime(body.date)!, rate: body.rate, source: body.source };
    const outcome: CommandOutcome = await this.commands.execute(new PublishExchangeRateCommand(contextOf(req, actor), data));
    const e = eventsOf<ExchangeRatePublished>(outcome.events, 'ExchangeRatePublished')[0]?.data;
    return commandResponse(outcome, e ?? {});
  }

  @Get()
  @Allow('finance', 'channel-ops', 'auditor')
  @ApiExtraModels(ExchangeRateDto, ExchangeRateListDto)
  @ApiOkResponse({
    description: 'With `currency` and `at`: the one rate in force (an ExchangeRate); otherwise `{ items }`, by currency then date.',
    schema: { oneOf: [{ $ref: getSchemaPath(ExchangeRateDto) }, { $ref: getSchemaPath(ExchangeRateListDto) }] },
  })
  @ApiNotFoundResponse({ description: 'With `currency` and `at`: no rate is in force then' })
  @ApiOperation({ summary: 'The rate in force for a currency at an instant, or the published rates' })
  async list(@Query() query: ExchangeRateQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ExchangeRateDto | ExchangeRateListDto> {
    const at = query.at === undefined ? undefined : parseLedgerTime(query.at)!;
    const r = await this.queries.execute<ListExchangeRatesQuery, ExchangeRatesAnswer>(new ListExchangeRatesQuery(query.currency, at, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }
}
