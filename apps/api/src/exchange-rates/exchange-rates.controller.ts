import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiExtraModels, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ExchangeRatePublishedResponse } from './exchange-rates.responses.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '#events/envelope.js';
import { EXCHANGE_RATE_EVENT_TYPES, exchangeRateStreamId, type ExchangeRatePublished } from '#events/exchange-rates.js';
import type { EventStore } from '#libs/event-store/port.js';
import { NotFound } from '#libs/kernel/errors.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { PublishExchangeRateCommand } from '#libs/ledger/exchange-rates.commands.js';
import { ProgramInForce } from '#libs/ledger/program.commands.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';
import { rateInForce, type ExchangeRateState, type PublishedRate } from '#libs/money/exchange-rates.js';
import { ReadModels } from '#projections/runner/read-models.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { commandResponse } from '../http/responses.js';
import { parseLedgerTime } from '../http/validation.js';
import { Allow, CurrentActor } from '../platform/auth/access.js';
import { ExchangeRateDto, ExchangeRateListDto, ExchangeRateQueryDto, PublishExchangeRateDto } from './exchange-rates.dto.js';

/**
 * Exchange rates (API.md v2). Read from the log itself (a pair's stream, or the `exchangerate-` category for the
 * list), which is small and always current; `minPosition` still waits, as for every query.
 */
@ApiTags('exchange rates')
@ApiBearerAuth()
@Controller('v1/exchange-rates')
export class ExchangeRatesController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
    @Inject(ReadModels) private readonly readModels: ReadModels,
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
    const e = outcome.events.find((x) => x.type === 'ExchangeRatePublished')?.data as ExchangeRatePublished['data'] | undefined;
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
    if (query.minPosition !== undefined) await this.readModels.read(minPositionOf(query.minPosition), () => undefined);
    const position = await this.store.headPosition();
    void reply.header('Ledger-Position', position.toString());
    const { reportingCurrency } = await this.programs.get();
    const rates = await this.published(query.currency, reportingCurrency);
    if (query.currency !== undefined && query.at !== undefined) {
      const at = parseLedgerTime(query.at)!;
      const state: ExchangeRateState = { byDate: new Map(rates.filter((r) => r.currency === query.currency).map((r) => [r.date, r])) };
      const r = rateInForce(state, at);
      if (r === undefined) throw new NotFound(`no ${query.currency}→${reportingCurrency} rate is in force at ${at}`);
      return { currency: query.currency, reportingCurrency, ...pick(r) };
    }
    return { items: rates.map((r) => ({ currency: r.currency, reportingCurrency, ...pick(r) })) };
  }

  /** The latest publication per pair and date, against the reporting currency in force. */
  private async published(currency: string | undefined, reportingCurrency: string): Promise<(PublishedRate & { currency: string })[]> {
    const prefix = currency === undefined ? 'exchangerate-' : exchangeRateStreamId(currency, reportingCurrency);
    const latest = new Map<string, PublishedRate & { currency: string }>();
    for await (const e of this.store.readAll({ filter: { eventTypes: EXCHANGE_RATE_EVENT_TYPES, streamPrefixes: [prefix] } })) {
      const d = (e as unknown as ExchangeRatePublished).data;
      if (d.reportingCurrency !== reportingCurrency || (currency !== undefined && d.currency !== currency)) continue;
      latest.set(`${d.currency} ${d.date}`, { currency: d.currency, date: d.date, rate: d.rate, source: d.source, publishedAt: d.publishedAt });
    }
    return [...latest.values()].sort((a, b) => (a.currency === b.currency ? a.date.localeCompare(b.date) : a.currency.localeCompare(b.currency)));
  }
}

const pick = (r: PublishedRate) => ({ date: r.date, rate: r.rate, source: r.source, publishedAt: r.publishedAt });
