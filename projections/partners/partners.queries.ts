import { decodeCursor, encodeCursor } from '../cursor.js';
import type Database from 'better-sqlite3';
import type { PartnerStatus, PartnerType } from '#events/partners.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { invalidField } from '#libs/kernel/input.js';
import { statement } from '../statements.js';

export interface PartnerView {
  readonly partnerId: string;
  readonly name: string;
  readonly type: PartnerType;
  readonly domain: string;
  readonly country?: string;
  readonly status: PartnerStatus;
  readonly tier: string;
  /** Distinct sellers with a certification in force at the query's `now`. */
  readonly certifiedSellers: number;
  readonly enrolledAt: string;
}

export interface PartnerFilter {
  readonly status?: string;
  readonly type?: string;
  readonly tier?: string;
  /** Restricts the list to one partner (a partner key sees only itself). */
  readonly partnerId?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface PartnerPage {
  readonly items: readonly PartnerView[];
  readonly nextCursor: string | null;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

interface Row {
  partner_id: string;
  name: string;
  type: PartnerType;
  domain: string;
  country: string | null;
  status: PartnerStatus;
  tier: string;
  enrolled_at: string;
  certified_sellers: number;
}

// Certifications expire without an event, so the count is computed at the caller's `now`, not stored.
const SELECT = `SELECT p.partner_id, p.name, p.type, p.domain, p.country, p.status, p.tier, p.enrolled_at,
  (SELECT COUNT(DISTINCT c.seller_id) FROM partner_certifications c
    WHERE c.partner_id = p.partner_id AND c.earned_at <= @now AND (c.expires_at IS NULL OR c.expires_at > @now) AND (c.revoked_at IS NULL OR c.revoked_at > @now)
  ) AS certified_sellers
  FROM partners p`;

function toView(r: Row): PartnerView {
  return {
    partnerId: r.partner_id,
    name: r.name,
    type: r.type,
    domain: r.domain,
    ...(r.country !== null ? { country: r.country } : {}),
    status: r.status,
    tier: r.tier,
    certifiedSellers: r.certified_sellers,
    enrolledAt: r.enrolled_at,
  };
}

export function getPartner(db: Database.Database, partnerId: string, now: Date): PartnerView | undefined {
  const row = statement<{ now: string; partnerId: string }, Row>(db, `${SELECT} WHERE p.partner_id = @partnerId`).get({
    now: now.toISOString(),
    partnerId,
  });
  return row === undefined ? undefined : toView(row);
}

/** Keyset paging on partnerId: stable while partners are added, unlike an offset. */
export function listPartners(db: Database.Database, filter: PartnerFilter, now: Date): PartnerPage {
  const limit = filter.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw invalidField('limit', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor, [ID_PATTERN])[0];

  const where: string[] = [];
  const params: Record<string, string | number> = { now: now.toISOString(), take: limit + 1 };
  const eq = (column: string, name: string, value: string | undefined): void => {
    if (value === undefined) return;
    where.push(`p.${column} = @${name}`);
    params[name] = value;
  };
  eq('status', 'status', filter.status);
  eq('type', 'type', filter.type);
  eq('tier', 'tier', filter.tier);
  eq('partner_id', 'partnerId', filter.partnerId);
  if (after !== undefined) {
    where.push('p.partner_id > @after');
    params.after = after;
  }
  const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY p.partner_id LIMIT @take`;
  const rows = statement<Record<string, string | number>, Row>(db, sql).all(params);

  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return {
    items: page.map(toView),
    nextCursor: more ? encodeCursor([page[page.length - 1]!.partner_id]) : null,
  };
}
