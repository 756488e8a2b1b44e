import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { isRecorded } from '#events/envelope.js';
import { EXCHANGE_RATE_EVENT_TYPES, exchangeRateStreamId, type ExchangeRatePublished } from '#events/exchange-rates.js';
import type { EventStore } from '#libs/event-store/port.js';
import { NotFound } from '#libs/kernel/errors.js';
import { ProgramInForce } from '#libs/ledger/program.commands.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';
import { rateInForce, type ExchangeRateState, type PublishedRate } from '#libs/money/exchange-rates.js';
import { ReadModels } from '#projections/runner/read-models.js';
import type { ExchangeRateDto, ExchangeRateListDto } from './exchange-rates.dto.js';

/** With `currency` and `at`: the one rate in force; otherwise the published rates (optionally of one currency). */
export class ListExchangeRatesQuery {
  constructor(
    readonly currency: string | undefined,
    readonly at: string | undefined,
    readonly minPosition?: bigint,
  ) {}
}

export type ExchangeRatesAnswer = { position: bigint; value: ExchangeRateDto | ExchangeRateListDto };

/**
 * Exchange rates are read from the log itself (a pair's stream, or the `exchangerate-` category for the list),
 * which is small and always current; `minPosition` still waits, as for every query.
 */
@QueryHandler(ListExchangeRatesQuery)
export class ListExchangeRatesHandler implements IQueryHandler<ListExchangeRatesQuery, ExchangeRatesAnswer> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ProgramInForce) private readonly programs: ProgramInForce,
    @Inject(ReadModels) private readonly readModels: ReadModels,
  ) {}

  async execute(q: ListExchangeRatesQuery): Promise<ExchangeRatesAnswer> {
    await this.readModels.reached(q.minPosition);
    const position = await this.store.headPosition();
    const { reportingCurrency } = await this.programs.get();
    const rates = await this.published(q.currency, reportingCurrency);
    if (q.currency !== undefined && q.at !== undefined) {
      const state: ExchangeRateState = { byDate: new Map(rates.filter((r) => r.currency === q.currency).map((r) => [r.date, r])) };
      const r = rateInForce(state, q.at);
      if (r === undefined) throw new NotFound(`no ${q.currency}→${reportingCurrency} rate is in force at ${q.at}`);
      return { position, value: { currency: q.currency, reportingCurrency, ...pick(r) } };
    }
    return { position, value: { items: rates.map((r) => ({ currency: r.currency, reportingCurrency, ...pick(r) })) } };
  }

  /** The latest publication per pair and date, against the reporting currency in force. */
  private async published(currency: string | undefined, reportingCurrency: string): Promise<(PublishedRate & { currency: string })[]> {
    const prefix = currency === undefined ? 'exchangerate-' : exchangeRateStreamId(currency, reportingCurrency);
    const latest = new Map<string, PublishedRate & { currency: string }>();
    for await (const e of this.store.readAll({ filter: { eventTypes: EXCHANGE_RATE_EVENT_TYPES, streamPrefixes: [prefix] } })) {
      if (!isRecorded<ExchangeRatePublished>(e, 'ExchangeRatePublished')) continue;
      const d = e.data;
      if (d.reportingCurrency !== reportingCurrency || (currency !== undefined && d.currency !== currency)) continue;
      latest.set(`${d.currency} ${d.date}`, { currency: d.currency, date: d.date, rate: d.rate, source: d.source, publishedAt: d.publishedAt });
    }
    return [...latest.values()].sort((a, b) => (a.currency === b.currency ? a.date.localeCompare(b.date) : a.currency.localeCompare(b.currency)));
  }
}

const pick = (r: PublishedRate) => ({ date: r.date, rate: r.rate, source: r.source, publishedAt: r.publishedAt });
