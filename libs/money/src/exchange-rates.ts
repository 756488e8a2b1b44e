import type { ExchangeRateEvent, ExchangeRatePublished } from '#events/exchange-rates.js';
import { invalidField, requireInstant, requireText } from '#libs/kernel/input.js';
import type { Decider } from '#libs/kernel/decider.js';
import { RuleViolation } from '#libs/kernel/errors.js';
import { rateProblem } from './conversion.js';
import { isCurrency } from './currency.js';

/**
 * The rates of one currency pair (`exchangerate-<currency>.<reportingCurrency>`), as finance published them
 * (DOMAIN.md, "Exchange rates (v2)"): per business date the latest publication, so a correction for a date
 * supersedes the earlier one for every decision recorded after it.
 */
export interface PublishedRate {
  readonly date: string;
  readonly rate: string;
  readonly source: string;
  readonly publishedAt: string;
}

export interface ExchangeRateState {
  /** By business date; one entry per date (the latest publication). */
  readonly byDate: ReadonlyMap<string, PublishedRate>;
}

export type PublishExchangeRate = {
  readonly type: 'PublishExchangeRate';
  readonly data: { readonly currency: string; readonly date: string; readonly rate: string; readonly source: string };
  /** The program's reporting currency, read by the handler just before deciding. */
  readonly facts: { readonly reportingCurrency: string };
};

export const initialExchangeRateState = (): ExchangeRateState => ({ byDate: new Map() });

export function evolveExchangeRates(state: ExchangeRateState, event: ExchangeRateEvent): ExchangeRateState {
  const d = event.data;
  return { byDate: new Map(state.byDate).set(d.date, { date: d.date, rate: d.rate, source: d.source, publishedAt: d.publishedAt }) };
}

/** The rate in force at `instant`: the one with the latest date at or before it, or undefined. */
export function rateInForce(state: ExchangeRateState, instant: string): PublishedRate | undefined {
  let best: PublishedRate | undefined;
  for (const r of state.byDate.values()) if (r.date <= instant && (best === undefined || r.date > best.date)) best = r;
  return best;
}

export function decideExchangeRate(command: PublishExchangeRate, state: ExchangeRateState, now: Date): readonly ExchangeRatePublished[] {
  const d = command.data;
  if (!isCurrency(d.currency)) throw invalidField('currency', 'currency must be an ISO 4217 code such as EUR');
  const date = requireInstant(d.date, 'date');
  const issue = rateProblem(d.rate);
  if (issue !== undefined) throw invalidField('rate', `rate ${issue}`);
  const source = requireText(d.source, 'source');
  const reportingCurrency = command.facts.reportingCurrency;
  if (d.currency === reportingCurrency) {
    throw new RuleViolation(`${d.currency} is the reporting currency: it needs no rate`, { reportingCurrency }, [{ path: 'currency', message: `must not be ${reportingCurrency}` }]);
  }
  const same = state.byDate.get(date);
  // Publishing what is already in force for that date is a no-op, so a publication can be retried.
  if (same !== undefined && same.rate === d.rate && same.source === source) return [];
  return [{ type: 'ExchangeRatePublished', data: { currency: d.currency, reportingCurrency, date, rate: d.rate, source, publishedAt: now.toISOString() } }];
}

export const exchangeRateDecider: Decider<PublishExchangeRate, ExchangeRateState, ExchangeRateEvent> = {
  initialState: initialExchangeRateState,
  evolve: evolveExchangeRates,
  decide: decideExchangeRate,
};
