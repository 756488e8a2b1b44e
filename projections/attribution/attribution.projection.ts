import type Database from 'better-sqlite3';
import type { AttributionAllocation, AttributionEvent, RevenueAttributed } from '#events/attribution.js';
import { isRecorded, type RecordedEvent } from '#events/envelope.js';
import type { Projection } from '../runner/projection.js';

/**
 * The finance read model behind `GET /v1/attribution`: one line per allocation of every attribution and of
 * every reversal, dated by business time (`recognizedAt`, `reversedAt`) with its month and quarter, so that
 * any range and grouping is a GROUP BY. Amounts are kept exactly as the events carry them (integer minor
 * units); sums are read back as bigint (see attribution.queries.ts).
 */
const HANDLED = ['RevenueAttributed', 'RevenueAttributionReversed'] as const satisfies readonly AttributionEvent['type'][];

interface Statements {
  readonly insert: Database.Statement;
  readonly conversion: Database.Statement<[string]>;
}

const statements = new WeakMap<Database.Database, Statements>();

function prepared(db: Database.Database): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      // (position, line) identifies a line: a re-delivered event cannot count twice.
      insert: db.prepare(`INSERT INTO attribution_lines (position, line, attribution_id, partner_id, credit_type, kind, currency, amount_minor,
        reporting_currency, reporting_amount_minor, business_at, month, quarter, rate, rate_date, rate_source)
      VALUES (@position, @line, @attributionId, @partnerId, @creditType, @kind, @currency, @amountMinor,
        @reportingCurrency, @reportingAmountMinor, @businessAt, @month, @quarter, @rate, @rateDate, @rateSource)
      ON CONFLICT(position, line) DO NOTHING`),
      // Through attribution_lines_attribution (an `evolveIndexes`, so it is there during a rebuild too).
      conversion: db.prepare(
        `SELECT rate, rate_date AS rateDate, rate_source AS rateSource FROM attribution_lines WHERE attribution_id = ? AND kind = 'attributed' LIMIT 1`,
      ),
    };
    statements.set(db, s);
  }
  return s;
}

/** `YYYY-MM` and `YYYY-Qn` of a canonical UTC instant. */
export function periodsOf(instant: string): { month: string; quarter: string } {
  const d = new Date(instant);
  const year = String(d.getUTCFullYear()).padStart(4, '0');
  const month = d.getUTCMonth() + 1;
  return { month: `${year}-${String(month).padStart(2, '0')}`, quarter: `${year}-Q${Math.ceil(month / 3)}` };
}

/** How a line's reporting amount was obtained; '' for each part that does not apply (a line in the reporting currency). */
interface LineConversion {
  readonly rate: string;
  readonly rateDate: string;
  readonly rateSource: string;
}

const NO_CONVERSION: LineConversion = { rate: '', rateDate: '', rateSource: '' };

/** The conversion of an attribution (v1 events with a reporting amount but no `conversion`: the caller's figure). */
function conversionOf(d: RevenueAttributed['data']): LineConversion {
  if (d.conversion !== undefined) return { rate: d.conversion.rate ?? '', rateDate: d.conversion.rateDate ?? '', rateSource: d.conversion.source };
  return d.reportingAmountMinor !== undefined ? { rate: '', rateDate: '', rateSource: 'caller' } : NO_CONVERSION;
}

/** A reversal converts in proportion with its attribution's conversion: the one its attributed lines carry. */
function conversionOfAttribution(db: Database.Database, attributionId: string): LineConversion {
  const row = prepared(db).conversion.get(attributionId) as LineConversion | undefined;
  return row ?? NO_CONVERSION;
}

function insertLines(
  db: Database.Database,
  position: bigint,
  kind: 'attributed' | 'reversed',
  attributionId: string,
  currency: string,
  reportingCurrency: string,
  businessAt: string,
  allocations: readonly AttributionAllocation[],
  conversion: LineConversion,
): void {
  const { insert } = prepared(db);
  const canonical = new Date(businessAt).toISOString();
  const { month, quarter } = periodsOf(canonical);
  allocations.forEach((a, line) => {
    insert.run({
      position,
      line,
      attributionId,
      partnerId: a.partnerId,
      creditType: a.type,
      kind,
      currency,
      amountMinor: a.amountMinor,
      reportingCurrency,
      // In the reporting currency already when the event carries no conversion.
      reportingAmountMinor: a.reportingAmountMinor ?? a.amountMinor,
      businessAt: canonical,
      month,
      quarter,
      ...conversion,
    });
  });
}

export const attributionProjection: Projection = {
  name: 'attribution',
  // 2: each line carries its conversion (rate, rate date, source) for the finance export; rebuilt from the log.
  version: 2,
  canHandle: HANDLED,
  // A reversal reads its attribution's conversion by attribution id.
  evolveIndexes: ['attribution_lines_attribution'],
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS attribution_lines (
        position INTEGER NOT NULL,
        line INTEGER NOT NULL,
        attribution_id TEXT NOT NULL,
        partner_id TEXT NOT NULL,
        credit_type TEXT NOT NULL,
        kind TEXT NOT NULL,
        currency TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        reporting_currency TEXT NOT NULL,
        reporting_amount_minor INTEGER NOT NULL,
        business_at TEXT NOT NULL,
        month TEXT NOT NULL,
        quarter TEXT NOT NULL,
        rate TEXT NOT NULL DEFAULT '',
        rate_date TEXT NOT NULL DEFAULT '',
        rate_source TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (position, line)
      );
      CREATE INDEX IF NOT EXISTS attribution_lines_partner ON attribution_lines (partner_id, business_at);
      CREATE INDEX IF NOT EXISTS attribution_lines_time ON attribution_lines (business_at);
      CREATE INDEX IF NOT EXISTS attribution_lines_attribution ON attribution_lines (attribution_id, kind);`);
  },
  reset(db) {
    statements.delete(db);
    db.exec('DROP TABLE IF EXISTS attribution_lines;');
  },
  evolve(db, event: RecordedEvent) {
    if (!isRecorded<AttributionEvent>(event, HANDLED)) return;
    const e = event;
    switch (e.type) {
      case 'RevenueAttributed': {
        const d = e.data;
        insertLines(db, event.position, 'attributed', d.attributionId, d.amount.currency, d.reportingCurrency, d.recognizedAt, d.allocations, conversionOf(d));
        return;
      }
      case 'RevenueAttributionReversed': {
        const d = e.data;
        insertLines(db, event.position, 'reversed', d.attributionId, d.currency, d.reportingCurrency, d.reversedAt, d.allocations, conversionOfAttribution(db, d.attributionId));
        return;
      }
      default: {
        const _exhaustive: never = e;
        return;
      }
    }
  },
};
