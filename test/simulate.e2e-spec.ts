import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { toWire, type RecordedEvent } from '#events/envelope.js';
import type { RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import { eventsFile } from '#libs/event-store/open.js';
import { loadConfig } from '#libs/ledger/config.js';
import { NonEmptyStoreError, simulate, type SimulateSummary } from '#cli/simulate.js';
import { verifyLog } from '#libs/event-store/integrity.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import type { AttributionReport } from '#projections/attribution/attribution.queries.js';
import type { FundPage } from '#projections/mdf-funds/mdf-funds.queries.js';
import { removeDir, startApp } from './support/app.js';

/** Small, but large enough for every fate: pending, suspended and terminated partners, a policy change, MDF cycles. */
const SIZES = { seed: 17, partners: 12, deals: 120, months: 9, start: new Date('2025-01-01T00:00:00Z') };

const CLI = resolve('dist/apps/cli/src/main.js');

async function logOf(dataDir: string): Promise<string[]> {
  const store = SqliteEventStore.open(eventsFile(dataDir));
  try {
    const lines: string[] = [];
    for await (const e of store.readAll({ fromPosition: 0n })) lines.push(JSON.stringify(toWire(e)));
    return lines;
  } finally {
    await store.close();
  }
}

describe('ledger simulate', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'ledger-sim-'));
    dirs.push(d);
    return d;
  };
  const run = (dataDir: string, sizes: Partial<typeof SIZES> = {}): Promise<SimulateSummary> =>
    simulate({ ...SIZES, ...sizes, config: loadConfig({ LEDGER_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }) });

  let first: { dir: string; summary: SimulateSummary };

  beforeAll(async () => {
    const dir = fresh();
    first = { dir, summary: await run(dir) };
  });

  afterAll(() => dirs.forEach(removeDir));

  it('writes the same log for the same seed, sizes and start: same events, data, order, ids, hashes and record times', async () => {
    const dir = fresh();
    const again = await run(dir);
    const [a, b] = await Promise.all([logOf(first.dir), logOf(dir)]);
    expect(a.length).toBeGreaterThan(300);
    expect(b).toEqual(a);
    const stable = ({ seconds: _s, eventsPerSecond: _r, dataDir: _d, ...rest }: SimulateSummary) => rest;
    expect(stable(again)).toEqual(stable(first.summary));

    const other = fresh();
    await run(other, { seed: SIZES.seed + 1 });
    expect(await logOf(other)).not.toEqual(a);
  });

  it('counts refusals instead of throwing them, and a refused command appends nothing', () => {
    const s = first.summary;
    const refused = Object.values(s.commands).reduce((n, t) => n + t.refused, 0);
    expect(refused).toBeGreaterThan(0);
    expect(Object.values(s.refusals).reduce((n, c) => n + c, 0)).toBe(refused);
    const reasons = Object.keys(s.refusals);
    // A conflicting approval and a rule of the program are among them; an invalid command would be a bug of the simulation.
    expect(reasons.some((r) => r.startsWith('ApproveDeal registration-conflict'))).toBe(true);
    expect(reasons.some((r) => r.includes(' rule-violation: '))).toBe(true);
    expect(reasons.filter((r) => r.includes(' validation-failed: '))).toEqual([]);
    // Every event written came from a recorded command: positions run from 1 to exactly the events counted.
    expect(s.position).toBe(String(s.eventsWritten));
  });

  it('leaves a coherent ledger that the service answers from: partners, deals, conflicts, MDF, attribution, tiers', async () => {
    const s = first.summary;
    const store = SqliteEventStore.open(eventsFile(first.dir));
    const all: RecordedEvent[] = [];
    try {
      const verified = await verifyLog(store);
      expect(verified).toMatchObject({ ok: true, checkedEvents: s.eventsWritten });
      for await (const e of store.readAll({ fromPosition: 0n })) all.push(e);
    } finally {
      await store.close();
    }
    const attributed = all.filter((e) => e.type === 'RevenueAttributed').map((e) => e.data as RevenueAttributed['data']);
    const reversed = all.filter((e) => e.type === 'RevenueAttributionReversed').map((e) => e.data as RevenueAttributionReversed['data']);
    // Record time walks with business time, from the start of the period to its end.
    const recorded = all.map((e) => e.metadata.recordedAt);
    expect([...recorded].sort()).toEqual(recorded);
    expect(recorded[0]! >= s.from && recorded[recorded.length - 1]! < s.to).toBe(true);

    const t = await startApp({ dataDir: first.dir });
    try {
      const get = async <T>(path: string): Promise<T> => {
        const r = await t.request<T>('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${s.position}`);
        expect({ path, status: r.status }).toEqual({ path, status: 200 });
        return r.body;
      };

      const partners = await get<{ items: { type: string; status: string; tier: string }[] }>('/v1/partners?limit=1000');
      expect(new Set(partners.items.map((p) => p.type))).toEqual(new Set(['reseller', 'distributor', 'msp', 'technology', 'referral']));
      expect(partners.items.filter((p) => p.status === 'active').length).toBeGreaterThan(SIZES.partners / 2);
      expect(partners.items.some((p) => p.status !== 'active')).toBe(true);

      const deals = await get<{ items: { status: string }[] }>('/v1/deals?limit=1000');
      expect(deals.items.length).toBe(s.eventsByType.DealRegistered);
      for (const status of ['approved', 'rejected', 'won', 'lost']) expect(deals.items.some((d) => d.status === status)).toBe(true);
      const conflicts = await get<{ items: { status: string }[] }>('/v1/registration-conflicts?limit=1000');
      expect(conflicts.items.some((c) => c.status === 'resolved')).toBe(true);

      const program = await get<{ version: number }>('/v1/tier-program');
      expect(program.version).toBe(2);
      const standings = await get<{ items: { currentTier: string }[] }>('/v1/tier-standings?limit=1000');
      expect(standings.items.length).toBeGreaterThan(0);
      expect(standings.items.some((x) => x.currentTier !== 'Registered')).toBe(true);

      const funds = await get<FundPage>('/v1/mdf/funds?limit=1000');
      expect(funds.items.length).toBeGreaterThan(0);
      for (const f of funds.items) {
        expect(0 <= f.approvedMinor && f.approvedMinor <= f.allocatedMinor).toBe(true);
        expect(f.claimedMinor).toBeLessThanOrEqual(f.approvedMinor - f.releasedMinor);
        expect(f.paidMinor).toBeLessThanOrEqual(f.claimedMinor);
        expect(f.availableMinor).toBe(f.allocatedMinor - f.approvedMinor + f.releasedMinor);
      }
      expect(funds.items.some((f) => f.paidMinor > 0)).toBe(true);
      // Some approvals lapse: monthly release runs give them back (v2).
      expect(funds.items.some((f) => f.releasedMinor > 0)).toBe(true);
      // Finance publishes monthly rates; foreign revenue after the first one is converted by the ledger, and says so.
      expect((await get<{ items: { currency: string }[] }>('/v1/exchange-rates')).items.length).toBeGreaterThan(3);
      let converted = 0;
      for await (const e of t.store.readAll({ filter: { eventTypes: ['RevenueAttributed'] } })) {
        const c = (e.data as { conversion?: { source: string; rate?: string } }).conversion;
        if (c?.source === 'Simulated treasury' && c.rate !== undefined) converted++;
      }
      expect(converted).toBeGreaterThan(0);

      const report = await get<AttributionReport>('/v1/attribution?limit=1000');
      expect(report.items.length).toBeGreaterThan(0);
      expect(report.nextCursor).toBeNull();
      const columns = ['sourcedMinor', 'influencedMinor', 'reversedSourcedMinor', 'reversedInfluencedMinor', 'netSourcedMinor', 'netInfluencedMinor'] as const;
      // The totals are the sum of the rows, per currency, and net is gross minus reversed...
      // (a simulated ledger stays far below 2^53 − 1, so every amount is a JSON number)
      const n = (v: number | string): number => {
        expect(typeof v).toBe('number');
        return v as number;
      };
      for (const total of report.totals) {
        const rows = report.items.filter((i) => i.currency === total.currency);
        for (const c of columns) expect({ currency: total.currency, [c]: rows.reduce((sum, r) => sum + n(r[c]), 0) }).toEqual({ currency: total.currency, [c]: total[c] });
        expect(total.netSourcedMinor).toBe(n(total.sourcedMinor) - n(total.reversedSourcedMinor));
        expect(total.netInfluencedMinor).toBe(n(total.influencedMinor) - n(total.reversedInfluencedMinor));
      }
      // ...and they are the allocations the log recorded, not a cent more or less.
      const fromLog = new Map<string, { sourcedMinor: number; reversedSourcedMinor: number }>();
      const line = (currency: string) => fromLog.get(currency) ?? fromLog.set(currency, { sourcedMinor: 0, reversedSourcedMinor: 0 }).get(currency)!;
      const currencyOf = new Map(attributed.map((a) => [a.attributionId, a.amount.currency]));
      for (const a of attributed) for (const x of a.allocations) if (x.type === 'sourced') line(a.amount.currency).sourcedMinor += x.amountMinor;
      for (const r of reversed) for (const x of r.allocations) if (x.type === 'sourced') line(currencyOf.get(r.attributionId)!).reversedSourcedMinor += x.amountMinor;
      expect(Object.fromEntries(report.totals.map((x) => [x.currency, { sourcedMinor: x.sourcedMinor, reversedSourcedMinor: x.reversedSourcedMinor }]))).toEqual(Object.fromEntries(fromLog));
      expect(reversed.length).toBeGreaterThan(0);
      expect(attributed.some((a) => a.reportingAmountMinor !== undefined)).toBe(true);
      expect(attributed.some((a) => a.credits.some((c) => c.type === 'influenced'))).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('runs tier program v2: two tracks, a certification catalog, a revocation and an override', async () => {
    const s = first.summary;
    expect(s.eventsByType.CertificationDefined).toBe(2);
    expect(s.eventsByType.SellerCertificationRevoked).toBe(1);
    expect(s.eventsByType.PartnerTierOverridden).toBe(1);
    expect(s.eventsByType.SellerClaimed).toBeGreaterThan(0);
    const store = SqliteEventStore.open(eventsFile(first.dir));
    try {
      const programs: { tiers: { partnerTypes?: string[] }[] }[] = [];
      for await (const e of store.readAll({ fromPosition: 0n })) if (e.type === 'TierProgramDefined') programs.push(e.data as (typeof programs)[number]);
      const tracks = new Set(programs[programs.length - 1]!.tiers.map((t) => (t.partnerTypes ?? ['all']).join(',')));
      expect(tracks.size).toBe(3); // the shared entry tier and two ladders
    } finally {
      await store.close();
    }
  });

  it('runs commissions: a plan at launch, accruals with the attributions, and a paid payout run each quarter end', async () => {
    const s = first.summary;
    expect(s.eventsByType.CommissionPlanDefined).toBe(1);
    expect(s.eventsByType.CommissionAccrued).toBeGreaterThan(0);
    expect(s.eventsByType.PayoutRunCreated).toBeGreaterThan(0);
    expect(s.eventsByType.PayoutRunApproved).toBe(s.eventsByType.PayoutRunCreated);
    const store = SqliteEventStore.open(eventsFile(first.dir));
    try {
      const lines = new Map<string, number>();
      const paid = new Map<string, number>();
      for await (const e of store.readAll({ fromPosition: 0n })) {
        if (e.type === 'PayoutRunCreated') {
          const d = e.data as { payoutId: string; lines: { partnerId: string; amountMinor: number }[] };
          for (const l of d.lines) lines.set(`${d.payoutId} ${l.partnerId}`, l.amountMinor);
        }
        if (e.type === 'PayoutLinePaid') {
          const d = e.data as { payoutId: string; partnerId: string; amountMinor: number };
          expect(paid.has(`${d.payoutId} ${d.partnerId}`)).toBe(false);
          paid.set(`${d.payoutId} ${d.partnerId}`, d.amountMinor);
        }
      }
      // Every line of every run paid once, for exactly its amount, and at least one run had lines.
      expect(lines.size).toBeGreaterThan(0);
      expect(paid).toEqual(lines);
    } finally {
      await store.close();
    }
  });

  it('refuses a store that already has events, and leaves it as it was', async () => {
    await expect(run(first.dir)).rejects.toThrow(NonEmptyStoreError);
    expect((await logOf(first.dir)).length).toBe(first.summary.eventsWritten);
  });

  it('runs as `ledger simulate` (compiled): progress on stderr, the summary on stdout', async () => {
    if (!existsSync(CLI)) throw new Error('run `npm run build` first: this test runs the compiled CLI in dist/');
    const dataDir = fresh();
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((ok, fail) => {
      const child = spawn(process.execPath, [CLI, 'simulate', '--partners', '6', '--deals', '30', '--months', '3', '--start', '2025-04-01', '--json'], {
        env: { ...process.env, LEDGER_DATA_DIR: dataDir, LEDGER_STORE: 'sqlite', LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', fail);
      child.on('close', (code) => ok({ code, stdout, stderr }));
    });
    expect(out).toMatchObject({ code: 0 });
    expect(out.stderr).toMatch(/simulate \(days\): \d+ events from \d+ commands/);
    const summary = JSON.parse(out.stdout) as SimulateSummary;
    expect(summary).toMatchObject({ seed: 42, partners: 6, deals: 30, months: 3, from: '2025-04-01T00:00:00.000Z', to: '2025-07-01T00:00:00.000Z' });
    expect(summary.eventsWritten).toBeGreaterThan(0);
    expect((await logOf(dataDir)).length).toBe(summary.eventsWritten);
  });
});
