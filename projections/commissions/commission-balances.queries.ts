import type Database from 'better-sqlite3';
import { invalidField } from '#libs/kernel/input.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { statement } from '../statements.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
const DIGITS = /^\d{1,20}$/;
const SIGNED_DIGITS = /^-?\d{1,20}$/;

/** One accrual or clawback, as `GET /v1/commissions` lists it. */
export interface CommissionEntry {
  readonly partnerId: string;
  readonly attributionId: string;
  readonly creditType: string;
  readonly kind: 'accrued' | 'clawed-back';
  /** 0 for an accrual; the reversal's sequence for a clawback. */
  readonly sequence: number;
  readonly amountMinor: number;
  readonly currency: string;
  /** The reporting amount the rate applied to (for a clawback, the reversed part). */
  readonly baseMinor: number;
  readonly rateBps: number;
  readonly planVersion: number;
  /** Business time: `recognizedAt` of an accrual, `reversedAt` of a clawback. */
  readonly at: string;
  /** The accrual's (a clawback names the accrual's). */
  readonly payableFrom: string;
  /** Log position of the event (a decimal string). */
  readonly position: string;
}

export interface CommissionFilter {
  readonly partnerId?: string;
  /** Canonical UTC instants on the business time `at`; both ends included. */
  readonly from?: string;
  readonly to?: string;
  /** Default 100, at most 1000. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

interface EntryRow {
  partner_id: string;
  attribution_id: string;
  credit_type: string;
  kind: 'accrued' | 'clawed-back';
  sequence: number;
  amount_minor: number;
  currency: string;
  base_minor: number;
  rate_bps: number;
  plan_version: number;
  at: string;
  payable_from: string;
  position: number;
}

/**
 * The accruals and clawbacks matching the filter, in business time order then log order (each event has its own
 * position, so (at, position) is the keyset of the pages).
 */
export function listCommissions(db: Database.Database, filter: CommissionFilter): { items: CommissionEntry[]; nextCursor: string | null } {
  const limit = filter.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalidField('limit', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  const where: string[] = [];
  const params: Record<string, unknown> = { take: limit + 1 };
  if (filter.cursor !== undefined) {
    const [at, position] = decodeCursor(filter.cursor, [SIGNED_DIGITS, DIGITS]);
    where.push('(at_ms > @afterAt OR (at_ms = @afterAt AND position > @afterPosition))');
    params.afterAt = Number(at);
    params.afterPosition = BigInt(position!);
  }
  if (filter.partnerId !== undefined) {
    where.push('partner_id = @partnerId');
    params.partnerId = filter.partnerId;
  }
  if (filter.from !== undefined) {
    where.push('at_ms >= @from');
    params.from = Date.parse(filter.from);
  }
  if (filter.to !== undefined) {
    where.push('at_ms <= @to');
    params.to = Date.parse(filter.to);
  }
  const sql = `SELECT * FROM commission_entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at_ms, position LIMIT @take`;
  const rows = statement<Record<string, unknown>, EntryRow & { at_ms: number }>(db, sql).all(params);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    nextCursor: more && last !== undefined ? encodeCursor([String(last.at_ms), String(last.position)]) : null,
    items: page.map((r) => ({
      partnerId: r.partner_id,
      attributionId: r.attribution_id,
      creditType: r.credit_type,
      kind: r.kind,
      sequence: r.sequence,
      amountMinor: r.amount_minor,
      currency: r.currency,
      baseMinor: r.base_minor,
      rateBps: r.rate_bps,
      planVersion: r.plan_version,
      at: r.at,
      payableFrom: r.payable_from,
      position: String(r.position),
    })),
  };
}

/** A partner's commission balance in one currency at a business time (DOMAIN.md, "Commissions and payouts (v2)"). */
export interface CommissionBalance {
  readonly partnerId: string;
  readonly currency: string;
  /** Σ accruals recognized at or before `asOf`. */
  readonly accruedMinor: number;
  /** Σ clawbacks reversed at or before `asOf` (paid or not). */
  readonly clawedBackMinor: number;
  /** What of the accruals (net of their clawbacks) is still in its hold at `asOf` (`payableFrom` after it). */
  readonly heldMinor: number;
  /** `balanceMinor − heldMinor`: what a payout run at `asOf` may pay; negative after a clawback of paid commission. */
  readonly payableMinor: number;
  /** Σ payout lines paid at or before `asOf`. */
  readonly paidMinor: number;
  /** `accruedMinor − clawedBackMinor − paidMinor`. */
  readonly balanceMinor: number;
}

/** Balances at business time `asOf`, one per partner and currency, by partner: integer sums (SQLite SUM, exact; every total is at most what was attributed, a safe integer). */
export function commissionBalances(db: Database.Database, filter: { readonly partnerId?: string }, asOf: Date): { asOf: string; items: CommissionBalance[] } {
  const at = asOf.getTime();
  const partner = filter.partnerId !== undefined ? 'AND partner_id = @partnerId' : '';
  const params = { asOf: at, ...(filter.partnerId !== undefined ? { partnerId: filter.partnerId } : {}) };
  const entries = statement<Record<string, unknown>, { partner_id: string; currency: string; accrued: number; clawed: number; held: number }>(
    db,
    `SELECT partner_id, currency,
       COALESCE(SUM(CASE WHEN kind = 'accrued' THEN amount_minor ELSE 0 END), 0) AS accrued,
       COALESCE(SUM(CASE WHEN kind = 'clawed-back' THEN amount_minor ELSE 0 END), 0) AS clawed,
       COALESCE(SUM(CASE WHEN payable_ms > @asOf THEN (CASE WHEN kind = 'accrued' THEN amount_minor ELSE -amount_minor END) ELSE 0 END), 0) AS held
     FROM commission_entries WHERE at_ms <= @asOf ${partner} GROUP BY partner_id, currency`,
  ).all(params);
  const paid = statement<Record<string, unknown>, { partner_id: string; currency: string; paid: number }>(
    db,
    `SELECT partner_id, currency, COALESCE(SUM(amount_minor), 0) AS paid FROM commission_payments WHERE paid_ms <= @asOf ${partner} GROUP BY partner_id, currency`,
  ).all(params);
  const byKey = new Map<string, { partnerId: string; currency: string; accrued: number; clawed: number; held: number; paid: number }>();
  const row = (partnerId: string, currency: string) => {
    const key = `${partnerId}\n${currency}`;
    let r = byKey.get(key);
    if (r === undefined) byKey.set(key, (r = { partnerId, currency, accrued: 0, clawed: 0, held: 0, paid: 0 }));
    return r;
  };
  for (const e of entries) Object.assign(row(e.partner_id, e.currency), { accrued: Number(e.accrued), clawed: Number(e.clawed), held: Number(e.held) });
  for (const p of paid) row(p.partner_id, p.currency).paid = Number(p.paid);
  const items = [...byKey.values()]
    .sort((a, b) => (a.partnerId < b.partnerId ? -1 : a.partnerId > b.partnerId ? 1 : a.currency < b.currency ? -1 : 1))
    .map((r) => {
      const balance = r.accrued - r.clawed - r.paid;
      return { partnerId: r.partnerId, currency: r.currency, accruedMinor: r.accrued, clawedBackMinor: r.clawed, heldMinor: r.held, payableMinor: balance - r.held, paidMinor: r.paid, balanceMinor: balance };
    });
  return { asOf: asOf.toISOString(), items };
}
