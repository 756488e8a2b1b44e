import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isRecorded, toWire, type RecordedEvent } from '#events/envelope.js';
import type { RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import type { CommissionClawedBack, PayoutLinePaid } from '#events/commissions.js';
import type { PartnerStatementIssued } from '#events/statements.js';
import { verifierKey } from '#libs/event-store/checkpoint.js';
import { CHECKPOINT_KEY_FILE, loadCheckpointSigner } from '#libs/ledger/checkpoint-key.js';
import { verifyStatement } from '#libs/ledger/statements.js';
import type { StatementChange } from '#libs/statements/content.js';
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
    // Statements are signed with the data directory's checkpoint key, created by the run, as on a fresh clone.
    delete process.env.LEDGER_CHECKPOINT_KEY;
    const dir = fresh();
    first = { dir, summary: await run(dir) };
  });

  afterAll(() => dirs.forEach(removeDir));

  it('writes the same log for the same seed, sizes, start and checkpoint key: same events, data, order, ids, hashes and record times', async () => {
    const dir = fresh();
    // Statements are signed with the data directory's checkpoint key (Ed25519 signatures are deterministic): the same key, the same bytes.
    copyFileSync(join(first.dir, CHECKPOINT_KEY_FILE), join(dir, CHECKPOINT_KEY_FILE));
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

  it("issues signed statements after each quarter's payout run, and a refund booked later restates its statement by exactly the refund's lines", async () => {
    const s = first.summary;
    // Three quarter ends in nine months from January, three partners a quarter.
    expect(s.statements).toMatchObject({ perQuarter: 3, issued: 9 });
    expect(s.eventsByType.PartnerStatementIssued).toBe(9);
    expect(s.commands.IssueStatement).toEqual({ issued: 9, refused: 0 });
    const r = s.statements.lateRefund!;
    // Here, right after the last quarter's statements (see the compiled run below for one booked weeks after its quarter).
    expect(r).toMatchObject({ period: '2025-Q3', reversedAt: '2025-09-30T00:00:00.000Z' });

    // Signed with the checkpoint key the simulation created in the data directory: the one `serve` and `ledger statement verify` use.
    const signer = loadCheckpointSigner(first.dir, {});
    const store = SqliteEventStore.open(eventsFile(first.dir));
    const statements: { position: bigint; data: PartnerStatementIssued['data'] }[] = [];
    let refund: { position: bigint; data: RevenueAttributionReversed['data'] } | undefined;
    const clawbacks: CommissionClawedBack['data'][] = [];
    const lastPaid = new Map<string, bigint>();
    try {
      for await (const e of store.readAll({ fromPosition: 0n })) {
        if (isRecorded<PartnerStatementIssued>(e, 'PartnerStatementIssued')) statements.push({ position: e.position, data: e.data });
        if (isRecorded<PayoutLinePaid>(e, 'PayoutLinePaid')) lastPaid.set(e.data.payoutId, e.position);
        if (isRecorded<RevenueAttributionReversed>(e, 'RevenueAttributionReversed') && e.data.attributionId === r.attributionId) {
          expect(refund).toBeUndefined();
          refund = { position: e.position, data: e.data };
        }
        if (isRecorded<CommissionClawedBack>(e, 'CommissionClawedBack') && e.data.attributionId === r.attributionId) clawbacks.push(e.data);
      }
      expect(statements.map((x) => x.data.period)).toEqual(['2025-Q1', '2025-Q1', '2025-Q1', '2025-Q2', '2025-Q2', '2025-Q2', '2025-Q3', '2025-Q3', '2025-Q3']);
      for (const { position, data } of statements) {
        expect(data.statementId).toBe(`ST-${data.period}-${data.partnerId}`);
        // After the quarter's payout run was paid: the statement's commissions include it.
        expect(position).toBeGreaterThan(lastPaid.get(`PO-${data.period}`) ?? 0n);
        expect(data.verifierKey).toBe(verifierKey(signer));
        expect({ id: data.statementId, verified: await verifyStatement(store, signer.publicKey, { ...data }) }).toEqual({
          id: data.statementId,
          verified: { ok: true, contentMatches: true, digestMatches: true, signatureValid: true },
        });
      }
    } finally {
      await store.close();
    }

    // The refund: dated in the stated quarter, appended after its statement was issued.
    const stated = statements.find((x) => x.data.statementId === r.statementId)!;
    expect([stated?.data.partnerId, stated?.data.period]).toEqual([r.partnerId, r.period]);
    expect(refund?.data.attributionId).toBe(r.attributionId);
    const content = stated.data.content;
    expect(refund!.position).toBeGreaterThan(stated.position);
    expect(r.bookedAt >= stated.data.issuedAt).toBe(true);
    expect(refund!.data.reversedAt >= content.from && refund!.data.reversedAt < content.to).toBe(true);
    // What the refund changes for the partner: its share of the reversal, and the commission clawed back with it.
    const shares = refund!.data.allocations.filter((a) => a.partnerId === r.partnerId);
    expect(shares).toHaveLength(1);
    const share = shares[0]!;
    const reversed = share.reportingAmountMinor ?? share.amountMinor;
    const clawed = clawbacks.filter((c) => c.partnerId === r.partnerId && c.sequence === refund!.data.sequence).reduce((n, c) => n + c.amountMinor, 0);
    expect(reversed).toBeGreaterThan(0);
    expect(clawed).toBeGreaterThan(0);
    const line = content.revenue[share.type];
    const expected: StatementChange[] = [
      { path: 'commissions.clawedBackMinor', issued: content.commissions.clawedBackMinor, now: content.commissions.clawedBackMinor + clawed },
      { path: 'commissions.closingMinor', issued: content.commissions.closingMinor, now: content.commissions.closingMinor - clawed },
      { path: `revenue.${share.type}.netMinor`, issued: line.netMinor, now: line.netMinor - reversed },
      { path: `revenue.${share.type}.reversedMinor`, issued: line.reversedMinor, now: line.reversedMinor + reversed },
    ];
    expect(r).toMatchObject({ partnerId: stated.data.partnerId, period: stated.data.period, reversedReportingMinor: reversed, clawedBackMinor: clawed, creditType: share.type, changes: expected });
    expect(s.statements.restatedIds).toContain(r.statementId);
    expect(s.statements.restated).toBe(s.statements.restatedIds.length);

    // As the service serves them, on the simulated data directory (its key): the refund's lines, and nothing else.
    const t = await startApp({ dataDir: first.dir });
    try {
      type View = PartnerStatementIssued['data'] & { restatement: { asOfPosition: string; changes: StatementChange[] } };
      const got = await t.request<View>('GET', `/v1/statements/${r.statementId}?minPosition=${s.position}`);
      expect(got.status).toBe(200);
      expect(got.body.restatement).toEqual({ asOfPosition: s.position, changes: expected });
      // The statement as issued still verifies: it is checked at its own position.
      const v = await t.request('POST', '/v1/audit/statements/verify', { body: got.body });
      expect([v.status, v.body]).toEqual([200, { ok: true, contentMatches: true, digestMatches: true, signatureValid: true }]);

      const list = await t.request<{ items: View[] }>('GET', `/v1/statements?minPosition=${s.position}`);
      expect(list.body.items.map((i) => i.statementId)).toEqual(statements.map((x) => x.data.statementId));
      // The summary's restated statements are the ones the service shows restated (late bookings of revenue recognized in their quarter, and the refund).
      expect(list.body.items.filter((i) => i.restatement.changes.length > 0).map((i) => i.statementId)).toEqual(s.statements.restatedIds);
      // A statement the refund did not touch, with revenue and commissions of its own, shows no change.
      const untouched = list.body.items.find((i) => !s.statements.restatedIds.includes(i.statementId) && i.content.revenue.sourced.attributedMinor > 0 && i.content.commissions.accruedMinor > 0);
      expect(untouched?.restatement).toEqual({ asOfPosition: s.position, changes: [] });
    } finally {
      await t.close();
    }
  });

  it('refuses a store that already has events, and leaves it as it was', async () => {
    await expect(run(first.dir)).rejects.toThrow(NonEmptyStoreError);
    expect((await logOf(first.dir)).length).toBe(first.summary.eventsWritten);
  });

  it('runs as `ledger simulate` (compiled): progress on stderr, the summary on stdout', async () => {
    if (!existsSync(CLI)) throw new Error('run `npm run build` first: this test runs the compiled CLI in dist/');
    const dataDir = fresh();
    // The key is the one simulate creates in the data directory, as on a fresh clone.
    const env: NodeJS.ProcessEnv = { ...process.env, LEDGER_DATA_DIR: dataDir, LEDGER_STORE: 'sqlite', LOG_LEVEL: 'silent' };
    delete env.LEDGER_CHECKPOINT_KEY;
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((ok, fail) => {
      const child = spawn(process.execPath, [CLI, 'simulate', '--partners', '8', '--deals', '40', '--months', '6', '--start', '2025-01-01', '--json'], {
        env,
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
    expect(out.stderr).toMatch(/simulate \(statements read back\): 6 statements issued, [1-6] restated since issue/);
    const summary = JSON.parse(out.stdout) as SimulateSummary;
    expect(summary).toMatchObject({ seed: 42, partners: 8, deals: 40, months: 6, from: '2025-01-01T00:00:00.000Z', to: '2025-07-01T00:00:00.000Z' });
    expect(summary.eventsWritten).toBeGreaterThan(0);
    expect((await logOf(dataDir)).length).toBe(summary.eventsWritten);
    // Two quarters; the refund booked on the first weekday 35 days after the first one ended (once its late
    // bookings are in), dated its last day. (The nine-month run above gets it right after the last statements:
    // no partner stated in Q1 or Q2 had an unchanged statement and an attribution crediting it alone.)
    expect(summary.statements).toMatchObject({ perQuarter: 3, issued: 6, lateRefund: { period: '2025-Q1', reversedAt: '2025-03-31T00:00:00.000Z', bookedAt: '2025-05-06T10:00:00.000Z' } });
    expect(summary.statements.lateRefund!.changes.map((c) => c.path)).toEqual(['commissions.clawedBackMinor', 'commissions.closingMinor', 'revenue.sourced.netMinor', 'revenue.sourced.reversedMinor']);
    expect(summary.statements.restatedIds).toContain(summary.statements.lateRefund!.statementId);

    // Each statement, as the log holds it, verifies with `ledger statement verify` and the key the simulation created in the data directory.
    const store = SqliteEventStore.open(eventsFile(dataDir));
    const statements: PartnerStatementIssued['data'][] = [];
    try {
      for await (const e of store.readAll({ filter: { eventTypes: ['PartnerStatementIssued'] } })) statements.push(e.data as PartnerStatementIssued['data']);
    } finally {
      await store.close();
    }
    expect(statements).toHaveLength(6);
    for (const st of statements) {
      const file = join(dataDir, `${st.statementId}.json`);
      writeFileSync(file, JSON.stringify(st));
      const verified = await new Promise<{ code: number | null; stdout: string }>((ok, fail) => {
        const child = spawn(process.execPath, [CLI, 'statement', 'verify', file], { env, stdio: ['ignore', 'pipe', 'ignore'] });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
        child.on('error', fail);
        child.on('close', (code) => ok({ code, stdout }));
      });
      expect({ id: st.statementId, code: verified.code, result: JSON.parse(verified.stdout) as unknown }).toEqual({
        id: st.statementId,
        code: 0,
        result: { ok: true, contentMatches: true, digestMatches: true, signatureValid: true },
      });
    }
  });
});
