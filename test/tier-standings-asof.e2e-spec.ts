import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '#cli/simulate.js';
import { DEFAULT_PROGRAM } from '#libs/program/program.js';
import { loadConfig } from '#libs/ledger/config.js';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

type Body = Record<string, unknown>;
const { version: _v, ...defaults } = DEFAULT_PROGRAM;
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
const DAY = 86_400_000;

/**
 * Issue 20, "the past as it was": a standing `?asOf=` answers the tier, the program version and the revenue as they
 * stood at asOf, and equals the tier-standings replay at the same instant.
 */
describe('tier standings as of a past date, end to end', () => {
  describe("the issue's example: promoted on 2026-05-31, program v2 on 2026-06-01, asked about 2026-04-30", () => {
    let t: TestApp;
    const clock = new TestClock(Date.parse('2025-05-01T09:00:00Z'));
    async function ok(method: string, path: string, body?: unknown): Promise<Body> {
      const r = await t.request(method, path, { body });
      if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
      return r.body;
    }
    beforeAll(async () => {
      t = await startApp({ clock });
    });
    afterAll(async () => {
      await t.close();
      removeDir(t.dataDir);
    });

    it('answers Registered and version 1 with the revenue known then, as the replay does', async () => {
      // Version 1: Silver at 50,000.00 of trailing revenue and two certified sellers.
      const v1 = { ...defaults, tiers: defaults.tiers.map((x) => (x.name === 'Silver' ? { ...x, minSourcedRevenueMinor: 5_000_000 } : x)) };
      await ok('PUT', '/v1/tier-program', v1);
      await ok('POST', '/v1/partners', { partnerId: 'P-012', name: 'Twelve', type: 'reseller', domain: 'twelve.example' });
      await ok('POST', '/v1/partners/P-012/activate', {});
      await ok('POST', '/v1/partners/P-012/certifications', { sellerId: 's1', certification: 'Sales', earnedAt: '2025-05-01' });
      await ok('POST', '/v1/partners/P-012/certifications', { sellerId: 's2', certification: 'Sales', earnedAt: '2025-05-01' });
      // Revenue recorded as it is recognized, month by month: 600,000 a month.
      for (let m = 0; m < 12; m++) {
        clock.set(new Date(Date.UTC(2025, 5 + m, 3, 10)).toISOString());
        await ok('POST', '/v1/revenue-attributions', { attributionId: `A-${m}`, amount: usd(600_000), recognizedAt: new Date(Date.UTC(2025, 5 + m, 1)).toISOString().slice(0, 10), credits: [{ partnerId: 'P-012', type: 'sourced', shareBps: 10_000 }] });
      }
      // 2026-05-10: finance books late an April deal of 4,000,000 (back-office entry, recognized 2026-04-20).
      clock.set('2026-05-10T10:00:00Z');
      await ok('POST', '/v1/revenue-attributions', { attributionId: 'A-late', amount: usd(4_000_000), recognizedAt: '2026-04-20', credits: [{ partnerId: 'P-012', type: 'sourced', shareBps: 10_000 }] });
      clock.set('2026-05-31T23:30:00Z');
      expect((await ok('POST', '/v1/tier-evaluations', { asOf: '2026-05-31T23:30:00Z' })).changes).toEqual([{ partnerId: 'P-012', from: 'Registered', to: 'Silver', kind: 'promotion' }]);
      clock.set('2026-06-01T09:00:00Z');
      expect((await ok('PUT', '/v1/tier-program', { ...v1, lookbackDays: 180 })).version).toBe(2);
      clock.set('2026-06-15T09:00:00Z');
      const head = (await t.store.headPosition()).toString();

      const live = await t.request('GET', `/v1/tier-standings/P-012?asOf=2026-04-30&minPosition=${head}`, { key: KEYS.finance });
      const replay = await t.request('GET', '/v1/audit/replay?projection=tier-standings&partnerId=P-012&asOf=2026-04-30', { key: KEYS.auditor });
      expect(live.status).toBe(200);
      // Window [2025-04-30, 2026-04-30] under v1, as known on 2026-04-30: eleven months of 600,000 (June to April), not the late deal.
      expect(live.body).toMatchObject({ currentTier: 'Registered', programVersion: 1, trailingSourcedRevenueMinor: 11 * 600_000, qualifyingTier: 'Silver' });
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual(live.body);

      // The same date measured with what is known now: the late deal counts; the tier and version are still those of then.
      const now = await t.request('GET', `/v1/tier-standings/P-012?asOf=2026-04-30&knownAt=2026-06-15&minPosition=${head}`, { key: KEYS.finance });
      expect(now.body).toMatchObject({ currentTier: 'Registered', programVersion: 1, trailingSourcedRevenueMinor: 11 * 600_000 + 4_000_000 });
      // After the promotion and the new version: Silver, v2, and v2's 180-day window.
      const june = await t.request('GET', '/v1/tier-standings/P-012?asOf=2026-06-02', { key: KEYS.finance });
      expect(june.body).toMatchObject({ currentTier: 'Silver', programVersion: 2 });
      const juneReplay = await t.request('GET', '/v1/audit/replay?projection=tier-standings&partnerId=P-012&asOf=2026-06-02', { key: KEYS.auditor });
      expect(juneReplay.body).toEqual(june.body);
    });

    it('uses the version effective at asOf: a version defined with a later effectiveFrom waits for it', async () => {
      clock.set('2026-06-20T09:00:00Z');
      const program = (await t.request<Body>('GET', '/v1/tier-program')).body;
      const { version: _version, definedAt: _definedAt, effectiveFrom: _from, ...rest } = program;
      const defined = await ok('PUT', '/v1/tier-program', { ...rest, lookbackDays: 30, effectiveFrom: '2026-09-01' });
      expect(defined.version).toBe(3);
      clock.set('2026-07-01T09:00:00Z');
      expect((await t.request('GET', '/v1/tier-standings/P-012?asOf=2026-08-31', { key: KEYS.finance })).body).toMatchObject({ programVersion: 2 });
      expect((await t.request('GET', '/v1/tier-standings/P-012?asOf=2026-09-01', { key: KEYS.finance })).body).toMatchObject({ programVersion: 3 });
      const bad = await t.request('PUT', '/v1/tier-program', { body: { ...rest, effectiveFrom: 'soon' } });
      expect(bad.status).toBe(400);
    });

    it('evaluates a past date with the version effective then, not the one in force today', async () => {
      // Today version 3 (a 30-day window) is in force: P-012 has no revenue in it.
      clock.set('2026-09-03T09:00:00Z');
      expect((await t.request<Body>('GET', '/v1/tier-program')).body).toMatchObject({ version: 3, lookbackDays: 30 });
      // 2026-08-31 is decided with version 2 (180 days: March to May, and the late April deal): still Silver.
      expect((await ok('POST', '/v1/tier-evaluations', { asOf: '2026-08-31T12:00:00Z' })).changes).toEqual([]);
      // 2026-09-02 with version 3: nothing in the window, a downgrade is scheduled, and the event names version 3.
      const september = await ok('POST', '/v1/tier-evaluations', { asOf: '2026-09-02T12:00:00Z' });
      expect(september.changes).toEqual([{ partnerId: 'P-012', from: 'Silver', to: 'Registered', kind: 'downgrade-scheduled', effectiveAt: '2026-12-01T12:00:00.000Z' }]);
      const stream = await t.request<{ items: { type: string; data: Body }[] }>('GET', '/v1/audit/streams/partner-P-012', { key: KEYS.auditor });
      expect(stream.body.items.filter((e) => e.type === 'TierDowngradeScheduled').map((e) => e.data.programVersion)).toEqual([3]);
    });
  });

  describe('across a year of simulated history', () => {
    let dir: string;
    let t: TestApp;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ledger-asof-'));
      await simulate({ seed: 11, partners: 10, deals: 90, months: 12, start: new Date('2025-01-01T00:00:00Z'), config: loadConfig({ LEDGER_DATA_DIR: dir, LOG_LEVEL: 'silent' }) });
      t = await startApp({ dataDir: dir });
    });
    afterAll(async () => {
      await t.close();
      removeDir(dir);
    });

    it('answers every month end exactly as the replay at that instant does', async () => {
      const head = (await t.store.headPosition()).toString();
      const tiers = new Set<string>();
      const versions = new Set<number>();
      for (let m = 1; m <= 12; m++) {
        const asOf = new Date(Date.UTC(2025, m, 1) - DAY / 2).toISOString();
        const live = await t.request<{ items: Body[] }>('GET', `/v1/tier-standings?asOf=${asOf}&limit=1000&minPosition=${head}`, { key: KEYS.auditor });
        const replay = await t.request<{ items: Body[] }>('GET', `/v1/audit/replay?projection=tier-standings&asOf=${asOf}&limit=1000`, { key: KEYS.auditor });
        expect(live.status).toBe(200);
        expect(replay.status).toBe(200);
        expect(replay.body).toEqual(live.body);
        for (const s of live.body.items) {
          tiers.add(s.currentTier as string);
          versions.add(s.programVersion as number);
        }
        const one = live.body.items[m % Math.max(1, live.body.items.length)];
        if (one) {
          const single = await t.request('GET', `/v1/tier-standings/${one.partnerId as string}?asOf=${asOf}`, { key: KEYS.auditor });
          const singleReplay = await t.request('GET', `/v1/audit/replay?projection=tier-standings&partnerId=${one.partnerId as string}&asOf=${asOf}`, { key: KEYS.auditor });
          expect(singleReplay.body).toEqual(single.body);
        }
      }
      // The comparison covered promotions and both program versions, not only empty or identical answers.
      expect(tiers.size).toBeGreaterThan(1);
      expect([...versions].sort()).toEqual([1, 2]);
    });
  });
});
