import { decodeCursor, encodeCursor } from '../cursor.js';
import type Database from 'better-sqlite3';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { invalidField } from '#libs/kernel/input.js';
import { statement } from '../statements.js';

/**
 * `GET /v1/attribution`: attributed and reversed revenue per partner, business period and currency.
 * Sourced and influenced are reported side by side and never added together (each is the whole amount
 * split among its partners, see docs/money.md). Sums are taken by SQLite in 64-bit integers (an overflow is
 * an error, never a wrong number) and read back as bigint; an amount beyond 2^53 − 1 is answered as its exact
 * decimal string rather than rounded into a JSON number.
 */
export type GroupBy = 'month' | 'quarter';
export const GROUP_BY: readonly GroupBy[] = ['month', 'quarter'];

export interface AttributionReportParams {
  /** Canonical UTC instants; both ends included. Absent = unbounded. */
  readonly from?: string;
  readonly to?: string;
  readonly partnerId?: string;
  readonly groupBy?: GroupBy;
  /** Items per page; totals always cover the whole filtered range. Absent: every item (CSV) — see `DEFAULT_LIMIT`. */
  readonly limit?: number;
  readonly cursor?: string;
}

/** Minor units: a JSON number, or its decimal string beyond 2^53 − 1 (only in a store written before v2, see `exact`). */
export type ReportedMinor = number | string;

export interface AmountColumns {
  readonly sourcedMinor: ReportedMinor;
  readonly influencedMinor: ReportedMinor;
  readonly reversedSourcedMinor: ReportedMinor;
  readonly reversedInfluencedMinor: ReportedMinor;
  readonly netSourcedMinor: ReportedMinor;
  readonly netInfluencedMinor: ReportedMinor;
}

export interface AttributionReportItem extends AmountColumns {
  readonly partnerId: string;
  /** `YYYY-MM` or `YYYY-Qn` of the business time. */
  readonly period: string;
  readonly currency: string;
  // --- v2 money: the conversion of the row's lines (docs/money.md, "The finance export"); a row per conversion ---
  readonly reportingCurrency: string;
  readonly reportingSourcedMinor: ReportedMinor;
  readonly reportingInfluencedMinor: ReportedMinor;
  readonly reportingReversedSourcedMinor: ReportedMinor;
  readonly reportingReversedInfluencedMinor: ReportedMinor;
  readonly reportingNetSourcedMinor: ReportedMinor;
  readonly reportingNetInfluencedMinor: ReportedMinor;
  /** The published rate (exact decimal: reporting units per unit of `currency`); absent for the caller's figure or no conversion. */
  readonly rate?: string;
  /** The date of that rate (the rate in force at `recognizedAt`). */
  readonly rateDate?: string;
  /** Where the reporting amount came from: the rate's source, or `caller`; absent when `currency` is the reporting currency. */
  readonly rateSource?: string;
}

export interface CurrencyTotal extends AmountColumns {
  readonly currency: string;
}

export interface AttributionReport {
  readonly items: readonly AttributionReportItem[];
  readonly nextCursor: string | null;
  /** One per currency of the filtered lines, in that currency. */
  readonly totals: readonly CurrencyTotal[];
  /**
   * The same lines in the reporting currency (the conversion each attribution recorded at close), one per
   * reporting currency they were recorded with: one entry unless the program's reporting currency changed.
   */
  readonly reportingTotals: readonly CurrencyTotal[];
}

/** The item columns, in order: the CSV header and the JSON fields are the same list. */
export const REPORT_COLUMNS = [
  'partnerId',
  'period',
  'currency',
  'sourcedMinor',
  'influencedMinor',
  'reversedSourcedMinor',
  'reversedInfluencedMinor',
  'netSourcedMinor',
  'netInfluencedMinor',
  // v2 money: after API.md's columns, the conversion (the CSV has every column; JSON leaves out the absent rate ones).
  'reportingCurrency',
  'rate',
  'rateDate',
  'rateSource',
  'reportingSourcedMinor',
  'reportingInfluencedMinor',
  'reportingReversedSourcedMinor',
  'reportingReversedInfluencedMinor',
  'reportingNetSourcedMinor',
  'reportingNetInfluencedMinor',
] as const satisfies readonly (keyof AttributionReportItem)[];

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const SUMS = (amount: string) => `
  COALESCE(SUM(CASE WHEN kind = 'attributed' AND credit_type = 'sourced' THEN ${amount} END), 0) AS sourced,
  COALESCE(SUM(CASE WHEN kind = 'attributed' AND credit_type = 'influenced' THEN ${amount} END), 0) AS influenced,
  COALESCE(SUM(CASE WHEN kind = 'reversed' AND credit_type = 'sourced' THEN ${amount} END), 0) AS reversed_sourced,
  COALESCE(SUM(CASE WHEN kind = 'reversed' AND credit_type = 'influenced' THEN ${amount} END), 0) AS reversed_influenced`;

interface SumRow {
  sourced: bigint;
  influenced: bigint;
  reversed_sourced: bigint;
  reversed_influenced: bigint;
}

/**
 * A sum as a JSON number while it is exact; beyond 2^53 − 1 as its exact decimal string. The ledger refuses any
 * command that would take a reported sum there (422 amount-out-of-range), so only a store written before that
 * rule can hold such a sum: it is still answered, never rounded and never a 500.
 */
function exact(value: bigint): ReportedMinor {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return value.toString();
  return Number(value);
}

interface ReportingSumRow {
  r_sourced: bigint;
  r_influenced: bigint;
  r_reversed_sourced: bigint;
  r_reversed_influenced: bigint;
}

function reportingColumns(r: ReportingSumRow) {
  return {
    reportingSourcedMinor: exact(r.r_sourced),
    reportingInfluencedMinor: exact(r.r_influenced),
    reportingReversedSourcedMinor: exact(r.r_reversed_sourced),
    reportingReversedInfluencedMinor: exact(r.r_reversed_influenced),
    reportingNetSourcedMinor: exact(r.r_sourced - r.r_reversed_sourced),
    reportingNetInfluencedMinor: exact(r.r_influenced - r.r_reversed_influenced),
  };
}

const REPORTING_SUMS = SUMS('reporting_amount_minor')
  .replace(' AS sourced,', ' AS r_sourced,')
  .replace(' AS influenced,', ' AS r_influenced,')
  .replace(' AS reversed_sourced,', ' AS r_reversed_sourced,')
  .replace(' AS reversed_influenced', ' AS r_reversed_influenced');

function columns(r: SumRow): AmountColumns {
  return {
    sourcedMinor: exact(r.sourced),
    influencedMinor: exact(r.influenced),
    reversedSourcedMinor: exact(r.reversed_sourced),
    reversedInfluencedMinor: exact(r.reversed_influenced),
    netSourcedMinor: exact(r.sourced - r.reversed_sourced),
    netInfluencedMinor: exact(r.influenced - r.reversed_influenced),
  };
}

export function attributionReport(db: Database.Database, params: AttributionReportParams, _now?: Date): AttributionReport {
  const groupBy = params.groupBy ?? 'month';
  if (!GROUP_BY.includes(groupBy)) throw invalidField('groupBy', `groupBy must be one of ${GROUP_BY.join(', ')}`);
  const limit = params.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT)) {
    throw invalidField('limit', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  if (params.from !== undefined && params.to !== undefined && params.from > params.to) {
    throw invalidField('from', 'from must not be after to');
  }
  // A row is a partner, period, currency and conversion of its lines. All the lines of one event share a conversion,
  // so the first log position of a row's lines tells apart the rows of one partner, period and currency: the key.
  const after = params.cursor === undefined ? undefined : decodeCursor(params.cursor, [ID_PATTERN, /^\d{4}-(\d{2}|Q[1-4])$/, /^[A-Z]{3}$/, /^\d{1,20}$/]);

  const where: string[] = [];
  const args: Record<string, string | number> = {};
  if (params.from !== undefined) {
    where.push('business_at >= @from');
    args.from = params.from;
  }
  if (params.to !== undefined) {
    where.push('business_at <= @to');
    args.to = params.to;
  }
  if (params.partnerId !== undefined) {
    where.push('partner_id = @partnerId');
    args.partnerId = params.partnerId;
  }
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const period = groupBy === 'month' ? 'month' : 'quarter';

  const itemArgs: Record<string, string | number> = { ...args };
  let having = '';
  if (after !== undefined) {
    having = 'HAVING (partner_id, period, currency, MIN(position)) > (@afterPartner, @afterPeriod, @afterCurrency, @afterPosition)';
    Object.assign(itemArgs, { afterPartner: after[0], afterPeriod: after[1], afterCurrency: after[2], afterPosition: BigInt(after[3]!) as unknown as number });
  }
  let take = '';
  if (limit !== undefined) {
    take = 'LIMIT @take';
    itemArgs.take = limit + 1;
  }
  type ItemRow = SumRow & ReportingSumRow & { partner_id: string; period: string; currency: string; reporting_currency: string; rate: string; rate_date: string; rate_source: string; first_position: bigint };
  const rows = statement<Record<string, string | number>, ItemRow>(
    db,
    `SELECT partner_id, ${period} AS period, currency, reporting_currency, rate, rate_date, rate_source, MIN(position) AS first_position,
            ${SUMS('amount_minor')}, ${REPORTING_SUMS}
       FROM attribution_lines ${filter}
       GROUP BY partner_id, period, currency, reporting_currency, rate, rate_date, rate_source ${having}
       ORDER BY partner_id, period, currency, first_position ${take}`,
    { safeIntegers: true },
  ).all(itemArgs);
  const more = limit !== undefined && rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const items: AttributionReportItem[] = page.map((r) => ({
    partnerId: r.partner_id,
    period: r.period,
    currency: r.currency,
    ...columns(r),
    reportingCurrency: r.reporting_currency,
    ...(r.rate !== '' ? { rate: r.rate } : {}),
    ...(r.rate_date !== '' ? { rateDate: r.rate_date } : {}),
    ...(r.rate_source !== '' ? { rateSource: r.rate_source } : {}),
    ...reportingColumns(r),
  }));

  const totals = statement<Record<string, string | number>, SumRow & { currency: string }>(
    db,
    `SELECT currency, ${SUMS('amount_minor')} FROM attribution_lines ${filter} GROUP BY currency ORDER BY currency`,
    { safeIntegers: true },
  )
    .all(args)
    .map((r) => ({ currency: r.currency, ...columns(r) }));
  const reportingTotals = statement<Record<string, string | number>, SumRow & { currency: string }>(
    db,
    `SELECT reporting_currency AS currency, ${SUMS('reporting_amount_minor')} FROM attribution_lines ${filter}
       GROUP BY reporting_currency ORDER BY reporting_currency`,
    { safeIntegers: true },
  )
    .all(args)
    .map((r) => ({ currency: r.currency, ...columns(r) }));

  const last = page[page.length - 1];
  return {
    items,
    nextCursor: more && last ? encodeCursor([last.partner_id, last.period, last.currency, last.first_position.toString()]) : null,
    totals,
    reportingTotals,
  };
}
