import type Database from 'better-sqlite3';
import type { PartnerEvent, PartnerType } from '#events/partners.js';
import { InvalidInput } from '#libs/kernel/errors.js';
import { projectionSpec } from '../testing/projection-spec.js';
import { partnersProjection } from './partners.projection.js';
import { encodeCursor } from '../cursor.js';
import { getPartner, listPartners } from './partners.queries.js';

const NOW = new Date('2026-03-31T12:00:00.000Z');

let spec: ReturnType<typeof projectionSpec>;
let db: Database.Database;

const enrolled = (partnerId: string, over: { type?: PartnerType; domain?: string; country?: string } = {}): PartnerEvent => ({
  type: 'PartnerEnrolled',
  data: {
    partnerId,
    name: `Partner ${partnerId}`,
    type: over.type ?? 'reseller',
    domain: over.domain ?? `${partnerId.toLowerCase()}.com`,
    ...(over.country ? { country: over.country } : {}),
    tier: 'Registered',
    programVersion: 0,
    enrolledAt: '2026-01-01T00:00:00.000Z',
  },
});
const activated = (partnerId: string): PartnerEvent => ({ type: 'PartnerActivated', data: { partnerId, activatedAt: '2026-01-02T00:00:00.000Z' } });
const suspended = (partnerId: string): PartnerEvent => ({ type: 'PartnerSuspended', data: { partnerId, reason: 'audit', suspendedAt: '2026-01-03T00:00:00.000Z' } });
const reinstated = (partnerId: string): PartnerEvent => ({ type: 'PartnerReinstated', data: { partnerId, reinstatedAt: '2026-01-04T00:00:00.000Z' } });
const terminated = (partnerId: string): PartnerEvent => ({ type: 'PartnerTerminated', data: { partnerId, reason: 'ended', terminatedAt: '2026-01-05T00:00:00.000Z' } });
const certified = (partnerId: string, sellerId: string, earnedAt: string, expiresAt?: string, certification = 'Sales Pro'): PartnerEvent => ({
  type: 'SellerCertified',
  data: { partnerId, sellerId, certification, earnedAt, ...(expiresAt ? { expiresAt } : {}) },
});
const tierChanged = (partnerId: string, from: string, to: string, kind: 'promotion' | 'demotion'): PartnerEvent => ({
  type: 'PartnerTierChanged',
  data: { partnerId, from, to, kind, asOf: '2026-03-01T00:00:00.000Z', programVersion: 0 },
});

beforeEach(() => {
  spec = projectionSpec(partnersProjection, { recordedAt: NOW.toISOString(), streamOf: (e) => `partner-${(e.data as { partnerId: string }).partnerId}` });
  db = spec.db;
});

afterEach(() => spec.close());

describe('partners projection', () => {
  it('is named partners, version 2 (revocable certifications: a version-1 read model is rebuilt)', () => {
    expect(partnersProjection.name).toBe('partners');
    expect(partnersProjection.version).toBe(2);
  });

  it('migrate is idempotent', () => {
    expect(() => partnersProjection.migrate(db)).not.toThrow();
  });

  it('given an enrollment, then the partner is pending at the lowest tier with no certified sellers', () => {
    spec.given(enrolled('P1', { country: 'GB', domain: 'acme.co.uk' }));
    expect(getPartner(db, 'P1', NOW)).toEqual({
      partnerId: 'P1',
      name: 'Partner P1',
      type: 'reseller',
      domain: 'acme.co.uk',
      country: 'GB',
      status: 'pending',
      tier: 'Registered',
      certifiedSellers: 0,
      enrolledAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('leaves country out when the partner has none', () => {
    spec.given(enrolled('P1'));
    expect(getPartner(db, 'P1', NOW)).not.toHaveProperty('country');
  });

  it('given an unknown partner, then getPartner is undefined', () => {
    expect(getPartner(db, 'nobody', NOW)).toBeUndefined();
  });

  it.each<[string, PartnerEvent[], string]>([
    ['activated', [activated('P1')], 'active'],
    ['suspended', [activated('P1'), suspended('P1')], 'suspended'],
    ['reinstated', [activated('P1'), suspended('P1'), reinstated('P1')], 'active'],
    ['terminated', [activated('P1'), suspended('P1'), terminated('P1')], 'terminated'],
  ])('given a partner %s, then its status follows', (_what, lifecycle, status) => {
    spec.given(enrolled('P1'), ...lifecycle);
    expect(getPartner(db, 'P1', NOW)?.status).toBe(status);
  });

  it('given a replayed enrollment, then the later lifecycle is kept', () => {
    spec.given(enrolled('P1'), activated('P1'), enrolled('P1'));
    expect(getPartner(db, 'P1', NOW)?.status).toBe('active');
  });

  it('given tier changes, then the tier follows them', () => {
    spec.given(enrolled('P1'), activated('P1'), tierChanged('P1', 'Registered', 'Gold', 'promotion'));
    expect(getPartner(db, 'P1', NOW)?.tier).toBe('Gold');
    spec.given(tierChanged('P1', 'Gold', 'Silver', 'demotion'));
    expect(getPartner(db, 'P1', NOW)?.tier).toBe('Silver');
  });

  it('records the position of the last change', () => {
    spec.given(enrolled('P1'), enrolled('P2'), activated('P1'));
    const row = db.prepare('SELECT updated_position AS p FROM partners WHERE partner_id = ?').get('P1') as { p: number };
    expect(row.p).toBe(3);
  });

  describe('certified sellers, counted at the query time', () => {
    beforeEach(() =>
      spec.given(
        enrolled('P1'),
        certified('P1', 'S1', '2026-01-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z'),
        certified('P1', 'S1', '2026-01-01T00:00:00.000Z', undefined, 'Technical Pro'),
        certified('P1', 'S2', '2026-01-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'),
        certified('P1', 'S3', '2026-05-01T00:00:00.000Z'),
        // a second delivery of one certification is one row
        certified('P1', 'S3', '2026-05-01T00:00:00.000Z'),
        certified('P2-not-enrolled', 'S9', '2026-01-01T00:00:00.000Z'),
      ),
    );

    it.each([
      ['2025-12-31T23:59:59.999Z', 0],
      ['2026-01-01T00:00:00.000Z', 2],
      ['2026-02-28T23:59:59.999Z', 2],
      ['2026-03-01T00:00:00.000Z', 1],
      ['2026-05-01T00:00:00.000Z', 2],
      ['2030-01-01T00:00:00.000Z', 2],
    ])('at %s → %i', (at, expected) => {
      expect(getPartner(db, 'P1', new Date(at))?.certifiedSellers).toBe(expected);
    });

    it('lists give the same count', () => {
      expect(listPartners(db, {}, new Date('2026-05-15T00:00:00.000Z')).items[0]?.certifiedSellers).toBe(2);
    });

    it('compares canonical instants even when an event carries another spelling', () => {
      spec.given(certified('P1', 'S4', '2026-01-01T00:00:00+02:00', '2026-03-31T13:00:00+02:00'));
      // S4 earned 2025-12-31T22:00Z, expires 2026-03-31T11:00Z: in force just before midnight UTC, not at NOW
      expect(getPartner(db, 'P1', new Date('2025-12-31T23:00:00.000Z'))?.certifiedSellers).toBe(1);
      expect(getPartner(db, 'P1', NOW)?.certifiedSellers).toBe(1);
    });
  });

  describe('listPartners', () => {
    beforeEach(() =>
      spec.given(
        enrolled('P3', { type: 'msp' }),
        enrolled('P1'),
        enrolled('P2', { type: 'distributor' }),
        enrolled('P4', { type: 'msp' }),
        enrolled('P5', { type: 'referral' }),
        activated('P1'),
        activated('P2'),
        activated('P3'),
        terminated('P4'),
        tierChanged('P2', 'Registered', 'Gold', 'promotion'),
        tierChanged('P3', 'Registered', 'Gold', 'promotion'),
      ),
    );

    const ids = (page: { items: readonly { partnerId: string }[] }) => page.items.map((p) => p.partnerId);

    it('lists every partner ordered by partnerId', () => {
      expect(listPartners(db, {}, NOW)).toMatchObject({ nextCursor: null });
      expect(ids(listPartners(db, {}, NOW))).toEqual(['P1', 'P2', 'P3', 'P4', 'P5']);
    });

    it.each([
      [{ status: 'active' }, ['P1', 'P2', 'P3']],
      [{ status: 'terminated' }, ['P4']],
      [{ status: 'suspended' }, []],
      [{ type: 'msp' }, ['P3', 'P4']],
      [{ tier: 'Gold' }, ['P2', 'P3']],
      [{ tier: 'Gold', type: 'msp' }, ['P3']],
      [{ status: 'active', tier: 'Registered' }, ['P1']],
      [{ partnerId: 'P4' }, ['P4']],
      [{ partnerId: 'P4', status: 'active' }, []],
      [{ partnerId: 'unknown' }, []],
    ])('filters by %j', (filter, expected) => {
      expect(ids(listPartners(db, filter, NOW))).toEqual(expected);
    });

    it('pages with an opaque cursor until nextCursor is null', () => {
      const first = listPartners(db, { limit: 2 }, NOW);
      expect(ids(first)).toEqual(['P1', 'P2']);
      expect(first.nextCursor).toBe(encodeCursor(['P2']));
      const second = listPartners(db, { limit: 2, cursor: first.nextCursor! }, NOW);
      expect(ids(second)).toEqual(['P3', 'P4']);
      const third = listPartners(db, { limit: 2, cursor: second.nextCursor! }, NOW);
      expect(ids(third)).toEqual(['P5']);
      expect(third.nextCursor).toBeNull();
    });

    it('gives no cursor when the last page is exactly full', () => {
      expect(listPartners(db, { limit: 5 }, NOW).nextCursor).toBeNull();
    });

    it('pages within a filter', () => {
      const first = listPartners(db, { status: 'active', limit: 2 }, NOW);
      expect(ids(first)).toEqual(['P1', 'P2']);
      const second = listPartners(db, { status: 'active', limit: 2, cursor: first.nextCursor! }, NOW);
      expect(ids(second)).toEqual(['P3']);
      expect(second.nextCursor).toBeNull();
    });

    it('does not skip a partner enrolled between two pages', () => {
      const first = listPartners(db, { limit: 2 }, NOW);
      spec.given(enrolled('P21'));
      expect(ids(listPartners(db, { limit: 10, cursor: first.nextCursor! }, NOW))).toEqual(['P21', 'P3', 'P4', 'P5']);
    });

    it('defaults to 100 items a page', () => {
      for (let i = 0; i < 120; i += 1) spec.given(enrolled(`Q${String(i).padStart(3, '0')}`));
      const page = listPartners(db, { type: 'reseller' }, NOW);
      expect(page.items).toHaveLength(100);
      expect(page.nextCursor).not.toBeNull();
    });

    it.each([[0], [1001], [2.5]])('given limit %p, then InvalidInput', (limit) => {
      expect(() => listPartners(db, { limit }, NOW)).toThrow(InvalidInput);
    });

    it.each([['not a cursor!'], [''], [Buffer.from('bad id with spaces').toString('base64url')]])('given cursor %j, then InvalidInput', (cursor) => {
      expect(() => listPartners(db, { cursor }, NOW)).toThrow(InvalidInput);
    });
  });

  it('given a reset and a migrate, then the read model is empty', () => {
    spec.given(enrolled('P1'), certified('P1', 'S1', '2026-01-01T00:00:00.000Z'));
    partnersProjection.reset(db);
    partnersProjection.migrate(db);
    expect(getPartner(db, 'P1', NOW)).toBeUndefined();
    expect(listPartners(db, {}, NOW)).toEqual({ items: [], nextCursor: null });
    expect(db.prepare('SELECT COUNT(*) AS n FROM partner_certifications').get()).toEqual({ n: 0 });
    // and it rebuilds from the same events
    spec.given(enrolled('P1'), certified('P1', 'S1', '2026-01-01T00:00:00.000Z'));
    expect(getPartner(db, 'P1', NOW)).toMatchObject({ status: 'pending', certifiedSellers: 1 });
  });

  it('handles only the events that change what a partner read shows', () => {
    expect([...partnersProjection.canHandle].sort()).toEqual(
      ['PartnerActivated', 'PartnerEnrolled', 'PartnerReinstated', 'PartnerSuspended', 'PartnerTerminated', 'PartnerTierChanged', 'SellerCertified', 'SellerCertificationRevoked', 'PartnerTierOverridden', 'PartnerTierOverrideEnded'].sort(),
    );
  });
});
