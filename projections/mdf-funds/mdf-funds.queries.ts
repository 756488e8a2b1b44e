import { decodeCursor, encodeCursor } from '../cursor.js';
import type Database from 'better-sqlite3';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { invalidField } from '#libs/kernel/input.js';
import { statement } from '../statements.js';

export interface FundView {
  readonly partnerId: string;
  readonly period: string;
  readonly currency: string;
  readonly allocatedMinor: number;
  readonly approvedMinor: number;
  /** Claims submitted and not rejected. */
  readonly claimedMinor: number;
  readonly paidMinor: number;
  /** v2: approvals given back by release runs. */
  readonly releasedMinor: number;
  /** allocated − approved + released. */
  readonly availableMinor: number;
}

export interface FundFilter {
  /** A partner key sees its own funds only: the controller sets this to its partnerId. */
  readonly partnerId?: string;
  readonly period?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface FundPage {
  readonly items: readonly FundView[];
  readonly nextCursor: string | null;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
const PERIOD = /^\d{4}-Q[1-4]$/;

interface Row {
  partner_id: string;
  period: string;
  currency: string;
  allocated_minor: number;
  approved_minor: number;
  claimed_minor: number;
  paid_minor: number;
  released_minor: number;
}

const toView = (r: Row): FundView => ({
  partnerId: r.partner_id,
  period: r.period,
  currency: r.currency,
  allocatedMinor: r.allocated_minor,
  approvedMinor: r.approved_minor,
  claimedMinor: r.claimed_minor,
  paidMinor: r.paid_minor,
  releasedMinor: r.released_minor,
  availableMinor: r.allocated_minor - r.approved_minor + r.released_minor,
});

/** Keyset paging on (partnerId, period), stable while funds are added. */
export function listFunds(db: Database.Database, filter: FundFilter, _now?: Date): FundPage {
  const limit = filter.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalidField('limit', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  if (filter.period !== undefined && !PERIOD.test(filter.period)) throw invalidField('period', 'period must be a quarter, YYYY-Qn');
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor, [ID_PATTERN, PERIOD]);
  const where: string[] = [];
  const args: Record<string, string | number> = { take: limit + 1 };
  if (filter.partnerId !== undefined) {
    where.push('partner_id = @partnerId');
    args.partnerId = filter.partnerId;
  }
  if (filter.period !== undefined) {
    where.push('period = @period');
    args.period = filter.period;
  }
  if (after !== undefined) {
    where.push('(partner_id, period) > (@afterPartner, @afterPeriod)');
    Object.assign(args, { afterPartner: after[0], afterPeriod: after[1] });
  }
  const rows = statement<Record<string, string | number>, Row>(
    db,
    `SELECT partner_id, period, currency, allocated_minor, approved_minor, claimed_minor, paid_minor, released_minor FROM mdf_funds
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY partner_id, period LIMIT @take`,
  ).all(args);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return { items: page.map(toView), nextCursor: more && last ? encodeCursor([last.partner_id, last.period]) : null };
}

export interface BudgetView {
  readonly period: string;
  readonly currency: string;
  readonly budgetMinor: number;
  /** Σ allocated to the period's funds in that currency. */
  readonly allocatedMinor: number;
  readonly remainingMinor: number;
}

/** `GET /v1/mdf/budgets`: every budget set (of one period when asked), with what its period's funds hold. */
export function listBudgets(db: Database.Database, filter: { readonly period?: string }, _now?: Date): { readonly items: readonly BudgetView[] } {
  if (filter.period !== undefined && !PERIOD.test(filter.period)) throw invalidField('period', 'period must be a quarter, YYYY-Qn');
  const rows = statement<Record<string, string>, { period: string; currency: string; budget_minor: number; allocated_minor: number }>(
    db,
    `SELECT b.period, b.currency, b.budget_minor,
        COALESCE((SELECT SUM(f.allocated_minor) FROM mdf_funds f WHERE f.period = b.period AND f.currency = b.currency), 0) AS allocated_minor
       FROM mdf_budgets b ${filter.period !== undefined ? 'WHERE b.period = @period' : ''} ORDER BY b.period, b.currency`,
  ).all(filter.period !== undefined ? { period: filter.period } : {});
  return {
    items: rows.map((r) => ({ period: r.period, currency: r.currency, budgetMinor: r.budget_minor, allocatedMinor: r.allocated_minor, remainingMinor: r.budget_minor - r.allocated_minor })),
  };
}
