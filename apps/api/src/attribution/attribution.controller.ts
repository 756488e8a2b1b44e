import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { stringify } from 'csv-stringify/sync';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import { eventsOf, type Actor } from '#events/envelope.js';
import { DEFAULT_LIMIT, REPORT_COLUMNS, type AttributionReport, type AttributionReportItem } from '#projections/attribution/attribution.queries.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { contextOf, minPositionOf } from '../http/http-context.js';
import { LedgerIdPipe } from '../http/id.pipe.js';
import { commandResponse } from '../http/responses.js';
import { parseLedgerTime } from '../http/validation.js';
import { PositionQueryDto } from '../http/query.dto.js';
import { Allow, CurrentActor, PartnerScoped, visiblePartnerFilter } from '../platform/auth/access.js';
import { AttributeRevenueDto, AttributionReportQueryDto, ReverseAttributionDto } from './attribution.dto.js';
import { AttributeRevenueCommand, ReverseAttributionCommand } from '#libs/ledger/attribution.commands.js';
import { AttributionReportQuery, GetAttributionQuery, type AttributionView } from './attribution.handlers.js';
import { AttributionCommandResponse, AttributionReportResponse, AttributionResponse } from './attribution.responses.js';

@ApiTags('revenue attribution')
@ApiBearerAuth()
@Controller('v1/revenue-attributions')
export class RevenueAttributionsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: AttributionCommandResponse })
  @HttpCode(201)
  @Allow('finance', 'channel-ops')
  @ApiOperation({
    summary: 'Attribute recognized revenue to partners (RevenueAttributed)',
    description:
      'Each credit type present (sourced, influenced) is credited the whole amount, split among its partners by largest remainder (ties to the smaller partnerId). ' +
      'Answers the allocations; `reportingAmountMinor` appears on them when the currency is not the reporting currency, with the `conversion` behind it ' +
      '(the published rate in force at `recognizedAt`, or `source: "caller"` for a given `reportingAmountMinor`). ' +
      'A deal must be won, in its currency, and its attributions net of reversals never exceed the won amount. ' +
      'Refusals (422): `deal-not-won`, `exceeds-won-amount`, `no-exchange-rate`, `amount-out-of-range`.',
  })
  async attribute(@Body() body: AttributeRevenueDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const data = {
      attributionId: body.attributionId,
      ...(body.dealId !== undefined ? { dealId: body.dealId } : {}),
      amount: { amountMinor: body.amount.amountMinor, currency: body.amount.currency },
      ...(body.reportingAmountMinor !== undefined ? { reportingAmountMinor: body.reportingAmountMinor } : {}),
      recognizedAt: parseLedgerTime(body.recognizedAt)!,
      credits: body.credits.map((c) => ({ partnerId: c.partnerId, type: c.type, shareBps: c.shareBps })),
    };
    const outcome: CommandOutcome = await this.commands.execute(new AttributeRevenueCommand(contextOf(req, actor), data));
    const e = eventsOf<RevenueAttributed>(outcome.events, 'RevenueAttributed')[0]?.data;
    return commandResponse(outcome, {
      attributionId: body.attributionId,
      ...(e
        ? {
            allocations: e.allocations,
            unregistered: e.unregistered ?? e.dealId === undefined,
            ...(e.reportingAmountMinor !== undefined ? { reportingCurrency: e.reportingCurrency, reportingAmountMinor: e.reportingAmountMinor } : {}),
            ...(e.conversion !== undefined ? { conversion: e.conversion } : {}),
          }
        : {}),
    });
  }

  @Post(':id/reverse')
  @ApiOkResponse({ type: AttributionCommandResponse })
  @HttpCode(200)
  @Allow('finance', 'channel-ops')
  @ApiOperation({
    summary: 'Take back all (no amountMinor) or part of what remains of an attribution (RevenueAttributionReversed)',
    description: 'Split over what remains of each allocation by largest remainder, in the period of `reversedAt`. More than remains → 422.',
  })
  async reverse(@Param('id', LedgerIdPipe) id: string, @Body() body: ReverseAttributionDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const data = {
      attributionId: id,
      ...(body.amountMinor !== undefined ? { amountMinor: body.amountMinor } : {}),
      reason: body.reason,
      reversedAt: parseLedgerTime(body.reversedAt)!,
    };
    const outcome: CommandOutcome = await this.commands.execute(new ReverseAttributionCommand(contextOf(req, actor), data));
    const e = eventsOf<RevenueAttributionReversed>(outcome.events, 'RevenueAttributionReversed')[0]?.data;
    return commandResponse(outcome, {
      attributionId: id,
      ...(e
        ? {
            amountMinor: e.amountMinor,
            ...(e.reportingAmountMinor !== undefined ? { reportingAmountMinor: e.reportingAmountMinor } : {}),
            allocations: e.allocations,
            remainingMinor: e.remainingMinor,
          }
        : {}),
    });
  }

  @Get(':id')
  @ApiOkResponse({ type: AttributionResponse })
  @Allow('finance', 'channel-ops', 'auditor')
  @PartnerScoped()
  @ApiOperation({ summary: 'An attribution with its allocations and reversals (a partner key: only its own credits, 404 if not credited)' })
  async get(@Param('id', LedgerIdPipe) id: string, @Query() query: PositionQueryDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<AttributionView> {
    const r: { position: bigint; value: AttributionView } = await this.queries.execute(new GetAttributionQuery(id, actor, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    return r.value;
  }
}

@ApiTags('revenue attribution')
@ApiBearerAuth()
@Controller('v1/attribution')
export class AttributionReportController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  @ApiOkResponse({ type: AttributionReportResponse })
  @Allow('finance', 'channel-ops', 'auditor')
  @PartnerScoped()
  @ApiProduces('application/json', 'text/csv')
  @ApiOperation({
    summary: 'Attributed revenue per partner, business period and currency, with totals',
    description:
      'By business time (`recognizedAt`, reversals by `reversedAt`), `from` and `to` included. `totals`: one per currency; `reportingTotals`: the same in the reporting currency. ' +
      '`Accept: text/csv` answers the items as CSV (a header row, the same columns and numbers; every row unless `limit` is given, the next page in the `Next-Cursor` header).',
  })
  async report(@Query() query: AttributionReportQueryDto, @Req() req: FastifyRequest, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply): Promise<AttributionReport | string> {
    const csv = wantsCsv(req.headers.accept);
    const partnerId = visiblePartnerFilter(actor, query.partnerId);
    const params = {
      ...(query.from !== undefined ? { from: parseLedgerTime(query.from)! } : {}),
      ...(query.to !== undefined ? { to: parseLedgerTime(query.to)! } : {}),
      ...(partnerId !== undefined ? { partnerId } : {}),
      groupBy: query.groupBy ?? 'month',
      ...(query.limit !== undefined ? { limit: query.limit } : csv ? {} : { limit: DEFAULT_LIMIT }),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    };
    const r: { position: bigint; value: AttributionReport } = await this.queries.execute(new AttributionReportQuery(params, minPositionOf(query.minPosition)));
    void reply.header('Ledger-Position', r.position.toString());
    if (!csv) return r.value;
    if (r.value.nextCursor !== null) void reply.header('Next-Cursor', r.value.nextCursor);
    void reply.header('Vary', 'Accept');
    void reply.type('text/csv; charset=utf-8');
    return toCsv(r.value.items);
  }
}

/** The items as CSV: a header row with the JSON field names, then one row per item, RFC 4180 quoting. */
export function toCsv(items: readonly AttributionReportItem[]): string {
  return stringify(items as unknown as Record<string, unknown>[], { header: true, columns: [...REPORT_COLUMNS], record_delimiter: 'windows' });
}

/**
 * Content negotiation between JSON (the default, also for a missing Accept or `*\/*`) and CSV: the supported
 * type with the highest q-value wins, the earlier one on a tie.
 */
export function wantsCsv(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let best: { type: 'json' | 'csv'; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q > 0)) continue;
    const type = range.trim() === 'text/csv' ? 'csv' : ['application/json', 'application/*', '*/*'].includes(range.trim()) ? 'json' : undefined;
    if (type !== undefined && (best === undefined || q > best.q)) best = { type, q };
  }
  return best?.type === 'csv';
}
