import type { DomainEventShape } from './envelope.js';

/**
 * Exchange rates (DOMAIN.md, "Exchange rates (v2)"), stream `exchangerate-<currency>.<reportingCurrency>`: one
 * stream per pair, so the rate in force for a conversion is read from one small stream. The `type` string and
 * data field names are persisted: never rename them.
 */
export type ExchangeRatePublished = DomainEventShape<
  'ExchangeRatePublished',
  {
    /** ISO 4217: the currency converted from. */
    readonly currency: string;
    /** ISO 4217: the program's reporting currency when published. */
    readonly reportingCurrency: string;
    /** Business time from which the rate is in force (canonical UTC instant). */
    readonly date: string;
    /** Units of `reportingCurrency` per unit of `currency`, a decimal string of up to 12 significant digits. */
    readonly rate: string;
    /** Where finance took it from (e.g. `ECB`, `treasury`). */
    readonly source: string;
    readonly publishedAt: string;
  }
>;

export type ExchangeRateEvent = ExchangeRatePublished;

export const EXCHANGE_RATE_EVENT_TYPES: readonly ExchangeRateEvent['type'][] = ['ExchangeRatePublished'];

export const exchangeRateStreamId = (currency: string, reportingCurrency: string): string => `exchangerate-${currency}.${reportingCurrency}`;
