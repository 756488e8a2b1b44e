import { DEAL_STATUSES } from '#events/deals.js';
import { PARTNER_STATUSES, PARTNER_TYPES } from '#events/partners.js';
import { NotFound } from '#libs/kernel/errors.js';
import { requireRegistrableDomain } from '#libs/partners/domain-name.js';
import { dealsProjection } from '../deals/deals.projection.js';
import { getDeal, listDeals } from '../deals/deals.queries.js';
import { partnersProjection } from '../partners/partners.projection.js';
import { getPartner, listPartners, MAX_LIMIT } from '../partners/partners.queries.js';
import { registrationConflictsProjection } from '../registration-conflicts/registration-conflicts.projection.js';
import { CONFLICT_STATUSES, listConflicts } from '../registration-conflicts/registration-conflicts.queries.js';
import { attributionProjection } from '../attribution/attribution.projection.js';
import { attributionReport, DEFAULT_LIMIT as ATTRIBUTION_DEFAULT_LIMIT, GROUP_BY } from '../attribution/attribution.queries.js';
import { mdfFundsProjection } from '../mdf-funds/mdf-funds.projection.js';
import { listFunds } from '../mdf-funds/mdf-funds.queries.js';
import { tierStandingsProjection } from '../tier-standings/tier-standings.projection.js';
import { getTierStanding, listTierStandings } from '../tier-standings/tier-standings.queries.js';
import { commissionBalancesProjection } from '../commissions/commission-balances.projection.js';
import { commissionBalances } from '../commissions/commission-balances.queries.js';
import { param, replayable, type ReplayableReadModel } from './registry.js';

/** `customer=` takes any spelling of the domain, as the live deal endpoints do. */
function customerKey(raw: Readonly<Record<string, string>>): string | undefined {
  const v = param.text(raw, 'customer');
  if (v === undefined) return undefined;
  return requireRegistrableDomain(v, 'customer');
}

/** Drops undefined members, so that a filter built from absent parameters equals the live endpoint's. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * `partners`: `GET /v1/partners` as it stood, or `GET /v1/partners/{id}` with `partnerId=` (404 when the
 * partner was not enrolled yet at `asOf`).
 */
export const partnersReplay = replayable({
  name: 'partners',
  projections: [partnersProjection],
  params: ['partnerId', 'status', 'type', 'tier', 'limit', 'cursor'],
  parse: (raw) => ({
    partnerId: param.id(raw, 'partnerId'),
    status: param.text(raw, 'status', { oneOf: PARTNER_STATUSES }),
    type: param.text(raw, 'type', { oneOf: PARTNER_TYPES }),
    tier: param.text(raw, 'tier', { max: 100 }),
    limit: param.int(raw, 'limit', { min: 1, max: MAX_LIMIT }),
    cursor: param.text(raw, 'cursor', { max: 400 }),
  }),
  query(db, p, now) {
    if (p.partnerId === undefined) return listPartners(db, { status: p.status, type: p.type, tier: p.tier, limit: p.limit, cursor: p.cursor }, now);
    const partner = getPartner(db, p.partnerId, now);
    if (partner === undefined) throw new NotFound(`partner ${p.partnerId} did not exist at that time`);
    return partner;
  },
});

/** `registration-conflicts`: `GET /v1/registration-conflicts` (`status`, `customer`, `dealId`, `limit`, `cursor`). */
export const registrationConflictsReplay = replayable({
  name: 'registration-conflicts',
  projections: [registrationConflictsProjection],
  params: ['status', 'customer', 'dealId', 'limit', 'cursor'],
  parse: (raw) =>
    defined({
      status: param.text(raw, 'status', { oneOf: CONFLICT_STATUSES }),
      customerKey: customerKey(raw),
      dealId: param.id(raw, 'dealId'),
      limit: param.int(raw, 'limit', { min: 1, max: MAX_LIMIT }),
      cursor: param.text(raw, 'cursor', { max: 400 }),
    }),
  query: (db, filter) => listConflicts(db, filter),
});

/** `deals`: `GET /v1/deals` as it stood, or `GET /v1/deals/{id}` with `dealId=` (404 before it was registered). */
export const dealsReplay = replayable({
  name: 'deals',
  projections: [dealsProjection],
  params: ['dealId', 'partnerId', 'status', 'customer', 'limit', 'cursor'],
  parse: (raw) => ({
    dealId: param.id(raw, 'dealId'),
    filter: defined({
      partnerId: param.id(raw, 'partnerId'),
      status: param.text(raw, 'status', { oneOf: DEAL_STATUSES }),
      customerKey: customerKey(raw),
      limit: param.int(raw, 'limit', { min: 1, max: MAX_LIMIT }),
      cursor: param.text(raw, 'cursor', { max: 400 }),
    }),
  }),
  query(db, p) {
    if (p.dealId === undefined) return listDeals(db, p.filter);
    const deal = getDeal(db, p.dealId);
    if (deal === undefined) throw new NotFound(`deal ${p.dealId} was not registered at that time`);
    return deal;
  },
});

/** `attribution`: `GET /v1/attribution` (JSON) as it stood: `from`, `to`, `partnerId`, `groupBy`, `limit`, `cursor`. */
export const attributionReplay = replayable({
  name: 'attribution',
  projections: [attributionProjection],
  params: ['from', 'to', 'partnerId', 'groupBy', 'limit', 'cursor'],
  parse: (raw) =>
    defined({
      from: param.time(raw, 'from'),
      to: param.time(raw, 'to'),
      partnerId: param.id(raw, 'partnerId'),
      groupBy: param.text(raw, 'groupBy', { oneOf: GROUP_BY }) as (typeof GROUP_BY)[number] | undefined,
      limit: param.int(raw, 'limit', { min: 1, max: MAX_LIMIT }) ?? ATTRIBUTION_DEFAULT_LIMIT,
      cursor: param.text(raw, 'cursor', { max: 400 }),
    }),
  query: (db, p) => attributionReport(db, p),
});

/** `mdf-funds`: `GET /v1/mdf/funds` as it stood: `partnerId`, `period`, `limit`, `cursor`. */
export const mdfFundsReplay = replayable({
  name: 'mdf-funds',
  projections: [mdfFundsProjection],
  params: ['partnerId', 'period', 'limit', 'cursor'],
  parse: (raw) =>
    defined({
      partnerId: param.id(raw, 'partnerId'),
      period: param.text(raw, 'period', { max: 7 }),
      limit: param.int(raw, 'limit', { min: 1, max: MAX_LIMIT }),
      cursor: param.text(raw, 'cursor', { max: 400 }),
    }),
  query: (db, filter) => listFunds(db, filter),
});

/**
 * `tier-standings`: `GET /v1/tier-standings` (or one partner with `partnerId=`) as it stood. The live
 * endpoint's business-time `asOf` is `standingAsOf` here (the replay's `asOf` is record time); it defaults
 * to the replay's moment, as the live default is its own now.
 */
export const tierStandingsReplay = replayable({
  name: 'tier-standings',
  projections: [tierStandingsProjection],
  params: ['partnerId', 'tier', 'standingAsOf', 'limit', 'cursor'],
  parse: (raw) => ({
    partnerId: param.id(raw, 'partnerId'),
    standingAsOf: param.time(raw, 'standingAsOf'),
    filter: defined({
      tier: param.text(raw, 'tier', { max: 100 }),
      limit: param.int(raw, 'limit', { min: 1, max: MAX_LIMIT }),
      cursor: param.text(raw, 'cursor', { max: 400 }),
    }),
  }),
  query(db, p, now) {
    const asOf = p.standingAsOf === undefined ? now : new Date(p.standingAsOf);
    // The live endpoint answers what was known at its asOf (never more than was recorded by the replay's instant).
    const knownAt = asOf.getTime() < now.getTime() ? asOf : now;
    if (p.partnerId === undefined) return listTierStandings(db, p.filter, asOf, knownAt);
    const standing = getTierStanding(db, p.partnerId, asOf, knownAt);
    if (standing === undefined) throw new NotFound(`partner ${p.partnerId} did not exist at that time`);
    return standing;
  },
});

/**
 * `commission-balances`: `GET /v1/commissions/balances` as it stood. The live endpoint's business-time `asOf` is
 * `balancesAsOf` here (the replay's `asOf` is record time); it defaults to the replay's moment.
 */
export const commissionBalancesReplay = replayable({
  name: 'commission-balances',
  projections: [commissionBalancesProjection],
  params: ['partnerId', 'balancesAsOf'],
  parse: (raw) => ({ partnerId: param.id(raw, 'partnerId'), balancesAsOf: param.time(raw, 'balancesAsOf') }),
  query: (db, p, now) => commissionBalances(db, defined({ partnerId: p.partnerId }), p.balancesAsOf === undefined ? now : new Date(p.balancesAsOf)),
});

/**
 * Every read model `/v1/audit/replay` can rebuild, by `name`. A read model joins with a few lines (see
 * docs/development.md, "As-of replay"). Asking for another name is a 400 listing the known ones.
 */
export const REPLAYABLE_READ_MODELS: readonly ReplayableReadModel[] = [partnersReplay, dealsReplay, registrationConflictsReplay, attributionReplay, mdfFundsReplay, tierStandingsReplay, commissionBalancesReplay];

export function findReplayable(name: string): ReplayableReadModel | undefined {
  return REPLAYABLE_READ_MODELS.find((r) => r.name === name);
}
