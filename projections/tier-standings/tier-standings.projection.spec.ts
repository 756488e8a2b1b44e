import type { DomainEventShape } from '#events/envelope.js';
import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import { projectionSpec } from '../testing/projection-spec.js';
import { tierStandingsProjection as projection } from './tier-standings.projection.js';
import { evaluablePartners, getTierStanding, listTierStandings } from './tier-standings.queries.js';

let spec: ReturnType<typeof projectionSpec>;
beforeEach(() => {
  spec = projectionSpec(projection, { streamOf: () => 'x-1' });
});
afterEach(() => spec.close());

let n = 0;
const recorded = (type: string, data: unknown): DomainEventShape => ({ type, data });
const enrolled = (partnerId: string) => recorded('PartnerEnrolled', { partnerId, name: partnerId, type: 'reseller', domain: `${partnerId}.example`, tier: 'Registered', programVersion: 0, enrolledAt: '2025-01-01T00:00:00.000Z' });
const attributed = (recognizedAt: string, allocations: unknown[], reportingAmountMinor?: number) =>
  recorded('RevenueAttributed', { attributionId: `a${++n}`, amount: { amountMinor: 1, currency: 'USD' }, reportingCurrency: 'USD', recognizedAt, credits: [], allocations, programVersion: 0, ...(reportingAmountMinor ? { reportingAmountMinor } : {}) });
const reversed = (reversedAt: string, allocations: unknown[]) => recorded('RevenueAttributionReversed', { attributionId: 'a', sequence: 1, amountMinor: 1, currency: 'USD', reportingCurrency: 'USD', reason: 'r', reversedAt, allocations, remainingMinor: 0 });
const won = (partnerId: string, dealId: string, closedAt: string) => recorded('DealWon', { dealId, partnerId, customerKey: 'c.example', products: ['p'], amount: { amountMinor: 1, currency: 'USD' }, closedAt, protectedUntil: closedAt, wonAt: closedAt, resolvedConflicts: [] });
const certified = (partnerId: string, sellerId: string, earnedAt: string, expiresAt?: string) => recorded('SellerCertified', { partnerId, sellerId, certification: 'c', earnedAt, ...(expiresAt ? { expiresAt } : {}) });

const asOf = new Date('2026-06-30T00:00:00.000Z');

describe('tier standings read model', () => {
  it('counts sourced revenue in the window, including both edges, net of reversals inside it, in the reporting currency', () => {
    spec.given(
      enrolled('P1'),
      attributed('2025-06-30T00:00:00.000Z', [{ partnerId: 'P1', type: 'sourced', amountMinor: 100 }]), // first day of the window
      attributed('2026-06-30T00:00:00.000Z', [{ partnerId: 'P1', type: 'sourced', amountMinor: 1000 }]), // last day (asOf)
      attributed('2025-06-29T23:59:59.999Z', [{ partnerId: 'P1', type: 'sourced', amountMinor: 5 }]), // just before
      attributed('2026-01-15T00:00:00.000Z', [{ partnerId: 'P1', type: 'influenced', amountMinor: 99999 }]), // influenced never counts
      attributed('2026-02-01T00:00:00.000Z', [{ partnerId: 'P1', type: 'sourced', amountMinor: 50, reportingAmountMinor: 70 }]), // reporting currency
      reversed('2026-03-01T00:00:00.000Z', [{ partnerId: 'P1', type: 'sourced', amountMinor: 30 }]), // inside
      reversed('2025-01-01T00:00:00.000Z', [{ partnerId: 'P1', type: 'sourced', amountMinor: 1000 }]), // outside
    );
    expect(getTierStanding(spec.db, 'P1', asOf)?.trailingSourcedRevenueMinor).toBe(100 + 1000 + 70 - 30);
  });

  it('counts deals won in the window and sellers certified at asOf, ignoring expired certifications', () => {
    spec.given(
      enrolled('P1'),
      won('P1', 'd1', '2026-01-01T00:00:00.000Z'),
      won('P1', 'd2', '2024-01-01T00:00:00.000Z'),
      certified('P1', 's1', '2025-01-01T00:00:00.000Z'),
      certified('P1', 's2', '2025-01-01T00:00:00.000Z', '2026-06-30T00:00:00.000Z'), // expires exactly at asOf: not counted
      certified('P1', 's3', '2025-01-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z'),
      certified('P1', 's4', '2026-07-01T00:00:00.000Z'), // earned after asOf
      certified('P1', 's1', '2026-01-01T00:00:00.000Z'), // the same seller twice counts once
    );
    const s = getTierStanding(spec.db, 'P1', asOf)!;
    expect(s.wonDeals).toBe(1);
    expect(s.certifiedSellers).toBe(2);
  });

  it('answers current, qualifying and next tier with the shortfall, and a scheduled downgrade', () => {
    spec.given(
      enrolled('P1'),
      attributed('2026-01-01T00:00:00.000Z', [{ partnerId: 'P1', type: 'sourced', amountMinor: 12_000_000 }]),
      certified('P1', 's1', '2025-01-01T00:00:00.000Z'),
      certified('P1', 's2', '2025-01-01T00:00:00.000Z'),
      recorded('PartnerTierChanged', { partnerId: 'P1', from: 'Registered', to: 'Gold', kind: 'promotion', asOf: '2026-01-01T00:00:00.000Z', programVersion: 0 }),
      recorded('TierDowngradeScheduled', { partnerId: 'P1', from: 'Gold', to: 'Silver', effectiveAt: '2026-09-28T00:00:00.000Z', asOf: '2026-06-30T00:00:00.000Z', programVersion: 0 }),
    );
    expect(getTierStanding(spec.db, 'P1', asOf)).toMatchObject({
      currentTier: 'Gold',
      qualifyingTier: 'Silver',
      nextTier: 'Platinum',
      shortfall: { revenueMinor: 200_000_000 - 12_000_000, certifiedSellers: 8, wonDeals: 15 },
      downgradeScheduledFor: '2026-09-28T00:00:00.000Z',
    });
  });

  it('uses the program defined in the log, lists by tier with paging, and skips terminated partners', () => {
    const { version: _v, ...p } = DEFAULT_PROGRAM;
    spec.given(
      recorded('TierProgramDefined', { ...p, version: 1, lookbackDays: 30, definedAt: '2026-01-01T00:00:00.000Z' }),
      enrolled('A'),
      enrolled('B'),
      enrolled('C'),
      recorded('PartnerTerminated', { partnerId: 'C', reason: 'r', terminatedAt: '2026-01-01T00:00:00.000Z' }),
      attributed('2026-05-01T00:00:00.000Z', [{ partnerId: 'A', type: 'sourced', amountMinor: 100 }]),
    );
    expect(getTierStanding(spec.db, 'A', asOf)).toMatchObject({ trailingSourcedRevenueMinor: 0, programVersion: 1 });
    expect(evaluablePartners(spec.db)).toEqual(['A', 'B']);
    const first = listTierStandings(spec.db, { tier: 'Registered', limit: 1 }, asOf);
    expect(first.items.map((s) => s.partnerId)).toEqual(['A']);
    const second = listTierStandings(spec.db, { tier: 'Registered', limit: 1, cursor: first.nextCursor! }, asOf);
    expect(second.items.map((s) => s.partnerId)).toEqual(['B']);
    expect(second.nextCursor).toBeNull();
    // A cursor this list did not make is refused (it used to be read as a partner id to start after).
    expect(() => listTierStandings(spec.db, { limit: 1, cursor: 'bm90LWEtY3Vyc29y' }, asOf)).toThrow('cursor is not one this list returned');
    expect(listTierStandings(spec.db, { tier: 'Gold' }, asOf).items).toEqual([]);
  });
  it('counts unregistered attributions (and their reversals) only while the version in force counts them', () => {
    const { version: _v, ...p } = DEFAULT_PROGRAM;
    const registered = (at: string, amountMinor: number) =>
      recorded('RevenueAttributed', { attributionId: `r${++n}`, dealId: 'D1', unregistered: false, amount: { amountMinor, currency: 'USD' }, reportingCurrency: 'USD', recognizedAt: at, credits: [], allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor }], programVersion: 0 });
    spec.given(
      enrolled('P1'),
      registered('2026-02-01T00:00:00.000Z', 1000),
      recorded('RevenueAttributed', { attributionId: 'u1', amount: { amountMinor: 500, currency: 'USD' }, reportingCurrency: 'USD', recognizedAt: '2026-02-01T00:00:00.000Z', credits: [], allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor: 500 }], programVersion: 0, unregistered: true }),
      recorded('RevenueAttributionReversed', { attributionId: 'u1', sequence: 1, amountMinor: 200, currency: 'USD', reportingCurrency: 'USD', reason: 'r', reversedAt: '2026-03-01T00:00:00.000Z', allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor: 200 }], remainingMinor: 300 }),
      recorded('TierProgramDefined', { ...p, version: 1, countUnregisteredRevenue: false, effectiveFrom: '2026-06-01T00:00:00.000Z', definedAt: '2026-05-01T00:00:00.000Z' }),
    );
    // Before version 1 is effective, the default program counts every attribution; from it on, registered ones only.
    expect(getTierStanding(spec.db, 'P1', new Date('2026-05-31T00:00:00.000Z'))?.trailingSourcedRevenueMinor).toBe(1000 + 500 - 200);
    expect(getTierStanding(spec.db, 'P1', asOf)).toMatchObject({ trailingSourcedRevenueMinor: 1000, programVersion: 1 });
  });

  it('sums only rows in the reporting currency of the version in force (never USD and EUR as one number)', () => {
    const { version: _v, ...p } = DEFAULT_PROGRAM;
    spec.given(
      enrolled('P1'),
      attributed('2026-02-01T00:00:00.000Z', [{ partnerId: 'P1', type: 'sourced', amountMinor: 1000 }]),
      recorded('RevenueAttributed', { attributionId: 'e1', amount: { amountMinor: 70, currency: 'EUR' }, reportingCurrency: 'EUR', recognizedAt: '2026-02-01T00:00:00.000Z', credits: [], allocations: [{ partnerId: 'P1', type: 'sourced', amountMinor: 70 }], programVersion: 0 }),
      recorded('TierProgramDefined', { ...p, version: 1, reportingCurrency: 'EUR', effectiveFrom: '2026-06-01T00:00:00.000Z', definedAt: '2026-05-01T00:00:00.000Z' }),
    );
    expect(getTierStanding(spec.db, 'P1', new Date('2026-05-31T00:00:00.000Z'))?.trailingSourcedRevenueMinor).toBe(1000);
    expect(getTierStanding(spec.db, 'P1', asOf)?.trailingSourcedRevenueMinor).toBe(70);
  });

  it('is version 3: a read model written by version 2 (tier-revenue rows without a currency) is rebuilt from the log', () => {
    expect(projection.version).toBe(3);
    const db = spec.db;
    db.exec('DROP TABLE tier_revenue');
    db.exec('CREATE TABLE tier_revenue (partner_id TEXT NOT NULL, at_ms INTEGER NOT NULL, amount_minor INTEGER NOT NULL, position INTEGER NOT NULL, known_ms INTEGER NOT NULL)');
    db.prepare('INSERT INTO tier_revenue VALUES (?, ?, ?, ?, ?)').run('P1', 0, 5, 1, 0);
    // What the runner does for a changed version: reset, migrate, replay.
    projection.reset(db);
    projection.migrate(db);
    spec.given(enrolled('P1'), attributed('2026-02-01T00:00:00.000Z', [{ partnerId: 'P1', type: 'sourced', amountMinor: 9 }]));
    expect(db.prepare('SELECT currency, unregistered, amount_minor FROM tier_revenue').all()).toEqual([{ currency: 'USD', unregistered: 1, amount_minor: 9 }]);
  });
});
