import { decodeCursor, encodeCursor } from '../cursor.js';
import type Database from 'better-sqlite3';
import type { DealStatus } from '#events/deals.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { invalidField } from '#libs/kernel/input.js';
import { statement } from '../statements.js';

export interface DealView {
  readonly dealId: string;
  readonly partnerId: string;
  readonly customerKey: string;
  readonly customer: { readonly name: string; readonly domain: string; readonly country?: string };
  readonly products: readonly string[];
  readonly estimatedValue: { readonly amountMinor: number; readonly currency: string };
  readonly expectedCloseDate: string;
  readonly status: DealStatus;
  readonly registeredAt: string;
  /** The active registrations it is in open conflict with now (empty once it is decided or its conflicts are resolved). */
  readonly conflictsWith: readonly string[];
  /** The CRM opportunity id (from the registration, or the approval that replaced it). */
  readonly externalRef?: string;
  /** When the customer was named by an alias of the account: that domain. */
  readonly viaAlias?: string;
  /** Why it was rejected (`RejectionReasonCode`) or expired (`protection-ended`, `review-lapsed`, `partner-terminated`). */
  readonly reasonCode?: string;
  /** The reason given when its approval set earlier pending registrations aside. */
  readonly overrideReason?: string;
  readonly approvedAt?: string;
  readonly protectedUntil?: string;
  readonly extendedDays?: number;
  readonly programVersion?: number;
  /** When it was rejected, expired, won or lost (record time). */
  readonly endedAt?: string;
  /** Rejection or loss reason (`conflict-lost` when another registration was approved). */
  readonly reason?: string;
  readonly winnerDealId?: string;
  readonly closedAt?: string;
  readonly wonAmount?: { readonly amountMinor: number; readonly currency: string };
}

export interface DealFilter {
  readonly partnerId?: string;
  readonly status?: string;
  /** A registrable domain (already normalized). */
  readonly customerKey?: string;
  readonly externalRef?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface DealPage {
  readonly items: readonly DealView[];
  readonly nextCursor: string | null;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

interface Row {
  deal_id: string;
  partner_id: string;
  customer_key: string;
  customer_name: string;
  customer_domain: string;
  customer_country: string | null;
  products: string;
  estimated_minor: number;
  estimated_currency: string;
  expected_close_date: string;
  status: DealStatus;
  registered_at: string;
  conflicts_with: string;
  approved_at: string | null;
  protected_until: string | null;
  extended_days: number | null;
  program_version: number | null;
  ended_at: string | null;
  reason: string | null;
  winner_deal_id: string | null;
  closed_at: string | null;
  won_minor: number | null;
  won_currency: string | null;
  external_ref: string | null;
  via_alias: string | null;
  reason_code: string | null;
  override_reason: string | null;
}

function toView(r: Row): DealView {
  const opt = <K extends string, V>(k: K, v: V | null): Partial<Record<K, V>> => (v === null ? {} : ({ [k]: v } as Record<K, V>));
  return {
    dealId: r.deal_id,
    partnerId: r.partner_id,
    customerKey: r.customer_key,
    customer: { name: r.customer_name, domain: r.customer_domain, ...opt('country', r.customer_country) },
    products: JSON.parse(r.products) as string[],
    estimatedValue: { amountMinor: r.estimated_minor, currency: r.estimated_currency },
    expectedCloseDate: r.expected_close_date,
    status: r.status,
    registeredAt: r.registered_at,
    conflictsWith: JSON.parse(r.conflicts_with) as string[],
    ...opt('externalRef', r.external_ref),
    ...opt('viaAlias', r.via_alias),
    ...opt('reasonCode', r.reason_code),
    ...opt('overrideReason', r.override_reason),
    ...opt('approvedAt', r.approved_at),
    ...opt('protectedUntil', r.protected_until),
    ...opt('extendedDays', r.extended_days),
    ...opt('programVersion', r.program_version),
    ...opt('endedAt', r.ended_at),
    ...opt('reason', r.reason),
    ...opt('winnerDealId', r.winner_deal_id),
    ...opt('closedAt', r.closed_at),
    ...(r.won_minor !== null && r.won_currency !== null ? { wonAmount: { amountMinor: r.won_minor, currency: r.won_currency } } : {}),
  };
}

/** The registrations `dealId` is in open conflict with now: the other active members of its open conflicts. Empty when it is no longer active. */
function openConflictsOf(db: Database.Database, row: Row): readonly string[] {
  if (!ACTIVE_STATUSES.includes(row.status)) return [];
  return statement<[string], { deal_id: string }>(
    db,
    `SELECT DISTINCT m.deal_id FROM deal_conflict_members mine
       JOIN deal_open_conflicts c ON c.conflict_id = mine.conflict_id
       JOIN deal_conflict_members m ON m.conflict_id = c.conflict_id AND m.deal_id <> mine.deal_id
       JOIN deals d ON d.deal_id = m.deal_id AND d.status IN ('submitted', 'conflicted', 'approved')
     WHERE mine.deal_id = ? ORDER BY d.registered_at, m.deal_id`,
  )
    .all(row.deal_id)
    .map((r) => r.deal_id);
}

const ACTIVE_STATUSES: readonly DealStatus[] = ['submitted', 'conflicted', 'approved'];

export function getDeal(db: Database.Database, dealId: string): DealView | undefined {
  const row = statement<[string], Row>(db, 'SELECT * FROM deals WHERE deal_id = ?').get(dealId);
  return row === undefined ? undefined : { ...toView(row), conflictsWith: openConflictsOf(db, row) };
}

/** Keyset paging on dealId: stable while deals are added, unlike an offset. */
export function listDeals(db: Database.Database, filter: DealFilter): DealPage {
  const limit = filter.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalidField('limit', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor, [ID_PATTERN])[0];
  const where: string[] = [];
  const params: Record<string, string | number> = { take: limit + 1 };
  const eq = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    where.push(`${column} = @${column}`);
    params[column] = value;
  };
  eq('partner_id', filter.partnerId);
  eq('status', filter.status);
  eq('customer_key', filter.customerKey);
  eq('external_ref', filter.externalRef);
  if (after !== undefined) {
    where.push('deal_id > @after');
    params.after = after;
  }
  const sql = `SELECT * FROM deals${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY deal_id LIMIT @take`;
  const rows = statement<Record<string, string | number>, Row>(db, sql).all(params);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { items: page.map(toView), nextCursor: more ? encodeCursor([page[page.length - 1]!.deal_id]) : null };
}

/**
 * A deal as a partner key may see it: the other registrations it names (`conflictsWith`, `winnerDealId`) only
 * where they are that partner's own. Another partner's deal ids are its data (API.md: never leaked).
 */
export function dealAsSeenBy(db: Database.Database, view: DealView, partnerId: string): DealView {
  const named = [...view.conflictsWith, ...(view.winnerDealId !== undefined ? [view.winnerDealId] : [])];
  if (named.length === 0) return view;
  const own = new Set(
    statement<string[], { deal_id: string }>(db, `SELECT deal_id FROM deals WHERE partner_id = ? AND deal_id IN (${named.map(() => '?').join(', ')})`)
      .all(partnerId, ...named)
      .map((r) => r.deal_id),
  );
  const { winnerDealId, ...rest } = view;
  return { ...rest, conflictsWith: view.conflictsWith.filter((id) => own.has(id)), ...(winnerDealId !== undefined && own.has(winnerDealId) ? { winnerDealId } : {}) };
}

/**
 * Customers with something an expiry run at `asOf` must end: an approved registration whose protection ended
 * before it, a pending one registered more than `reviewDays` before it, an active one of a terminated partner (the
 * partners read model, same database). The customer stream decides again; this only finds the streams.
 */
export function customersWithDueRegistrations(db: Database.Database, asOf: string, reviewDays: number): readonly string[] {
  const reviewCutoff = new Date(Date.parse(asOf) - reviewDays * 86_400_000).toISOString();
  const rows = statement<[string, string], { customer_key: string }>(
    db,
    `SELECT customer_key FROM deals WHERE status = 'approved' AND protected_until < ?
     UNION SELECT customer_key FROM deals WHERE status IN ('submitted', 'conflicted') AND registered_at < ?
     UNION SELECT customer_key FROM deals WHERE status IN ('submitted', 'conflicted', 'approved')
       AND partner_id IN (SELECT partner_id FROM partners WHERE status = 'terminated')
     ORDER BY customer_key`,
  ).all(asOf, reviewCutoff);
  return rows.map((r) => r.customer_key);
}
