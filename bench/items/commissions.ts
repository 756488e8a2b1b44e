import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progress } from '#cli/progress.js';
import { SYNTHETIC_COMMISSION_PLAN } from '../synthetic-log.js';
import { figure, percentile, type Figure } from '../report.js';
import { BENCH_KEYS } from '../service.js';
import { startServiceChild, waitFor200 } from '../spawn.js';

/** The statement period of the item: a quarter in the last year of the three the synthetic log spans. */
export const STATEMENT_PERIOD = '2025-Q3';
/** Above this p50 (ms) of the first statements, the item issues a fixed sample instead of every partner's. */
const SLOW_STATEMENT_MS = 1000;
/** The sample then: partners spread evenly over the enrollment order (early and late partners alike). */
const SAMPLE = 25;
const PROBE = 3;

interface Timed {
  readonly ms: number;
  readonly status: number;
  readonly body: string;
}

async function call(base: string, method: 'GET' | 'POST' | 'PUT', path: string, key: string, body?: unknown): Promise<Timed> {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { ms: performance.now() - started, status: res.status, body: text };
}

function expectStatus(r: Timed, ok: readonly number[], what: string): Timed {
  if (!ok.includes(r.status)) throw new Error(`${what} answered ${r.status}: ${r.body.slice(0, 300)}`);
  return r;
}

const partnerId = (n: number): string => `P${String(n).padStart(6, '0')}`;

/** `count` partner numbers spread evenly over 1..partners. */
function spread(partners: number, count: number): number[] {
  if (count >= partners) return Array.from({ length: partners }, (_, i) => i + 1);
  return Array.from({ length: count }, (_, i) => 1 + Math.floor((i * partners) / count));
}

/**
 * Item 7 (issues #21 and #23): statements and a payout run over every partner of the large simulated history,
 * through HTTP against the service on a copy of the data directory (the statements and the runs append to the
 * log; the dataset stays as items 3 to 6 measure it). The copy is setup, not measured.
 *
 * - `statements.issue.p50/p99`: `POST /v1/statements` for each partner (a quarter's statement, signed at the
 *   head), next to `GET /v1/attribution?partnerId=` for the same partners (concurrency 1, taking turns). When the
 *   first statements take more than a second each, a fixed sample of partners is issued instead of all (the
 *   figure's details say so).
 * - `payouts.run`: `POST /v1/payouts` as of now over the whole history (every partner's accruals and clawbacks),
 *   the first run of the process (it reads every accrual of the log); then `repeats - 1` more, each after the
 *   previous is cancelled (the service has the accruals in memory by then: in the details). Baseline:
 *   `GET /v1/commissions/balances`, every partner's balance from its read model.
 */
export async function measureCommissions(dataDir: string, partners: number, repeats = 1, conversions = CONVERSIONS): Promise<Figure[]> {
  const copy = mkdtempSync(join(tmpdir(), 'channel-ledger-bench-commissions-'));
  try {
    process.stderr.write(`commissions: copying ${dataDir} (setup, not measured)\n`);
    cpSync(dataDir, copy, { recursive: true });
    const child = startServiceChild(copy);
    try {
      const base = await child.url;
      await waitFor200(`${base}/health/ready`, 300_000);
      const finance = BENCH_KEYS.finance;
      // The plan the synthetic log defined at its start: re-sending it is a no-op (the accruals were decided under it).
      expectStatus(await call(base, 'PUT', '/v1/commission-plan', finance, SYNTHETIC_COMMISSION_PLAN), [200, 201], 'PUT /v1/commission-plan');
      // Warm both routes (JIT, statement caches) on a partner outside the measured order's first turns.
      expectStatus(await call(base, 'GET', `/v1/attribution?partnerId=${partnerId(partners)}`, finance), [200], 'GET /v1/attribution');

      const statement: number[] = [];
      const attribution: number[] = [];
      let bytes = 0;
      const one = async (n: number): Promise<void> => {
        const p = partnerId(n);
        attribution.push(expectStatus(await call(base, 'GET', `/v1/attribution?partnerId=${p}`, finance), [200], `GET /v1/attribution?partnerId=${p}`).ms);
        const issued = expectStatus(await call(base, 'POST', '/v1/statements', finance, { statementId: `ST-BENCH-${STATEMENT_PERIOD}-${p}`, partnerId: p, period: STATEMENT_PERIOD }), [200, 201], `POST /v1/statements (${p})`);
        statement.push(issued.ms);
        bytes = Math.max(bytes, issued.body.length);
      };
      const all = spread(partners, partners);
      for (const n of all.slice(0, PROBE)) await one(n);
      const probeP50 = percentile([...statement].sort((a, b) => a - b), 50);
      const sampled = probeP50 > SLOW_STATEMENT_MS;
      const rest = sampled ? spread(partners, SAMPLE).filter((n) => n > PROBE) : all.slice(PROBE);
      const bar = progress(`commissions: statements for ${sampled ? `a sample of ${rest.length + PROBE}` : 'every one'} of ${partners} partners`);
      for (const [i, n] of rest.entries()) {
        await one(n);
        bar.update(i + 1 + PROBE, rest.length + PROBE);
      }
      bar.finish(`${statement.length} statements`);
      const st = [...statement].sort((a, b) => a - b);
      const at = [...attribution].sort((a, b) => a - b);
      const statementDetails = {
        period: STATEMENT_PERIOD,
        partners,
        issued: st.length,
        sampled,
        ...(sampled ? { sampleNote: `the first ${PROBE} statements took ${Math.round(probeP50)} ms (p50) each: a fixed sample of ${st.length} partners spread over the enrollment order, not all ${partners}` } : {}),
        p50: percentile(st, 50),
        p90: percentile(st, 90),
        max: st[st.length - 1],
        totalSeconds: st.reduce((s, x) => s + x, 0) / 1000,
        maxBytes: bytes,
        attribution: { p50: percentile(at, 50), p99: percentile(at, 99), max: at[at.length - 1] },
      };

      // A payout run over every partner, as of now; cancelled so that the next repetition pays the same lines.
      process.stderr.write(`commissions: ${repeats} payout run(s) over every partner\n`);
      const balances = expectStatus(await call(base, 'GET', '/v1/commissions/balances', finance), [200], 'GET /v1/commissions/balances');
      const runs: { ms: number; lines: number; carriedForward: number; totalMinor: number }[] = [];
      const balanceMs: number[] = [balances.ms];
      for (let r = 1; r <= repeats; r++) {
        const payoutId = `PO-BENCH-${r}`;
        const created = expectStatus(await call(base, 'POST', '/v1/payouts', finance, { payoutId, asOf: new Date().toISOString() }), [200, 201], 'POST /v1/payouts');
        const { run } = JSON.parse(created.body) as { run?: { lines?: unknown[]; carriedForward?: unknown[]; totalMinor?: number } };
        runs.push({ ms: created.ms, lines: run?.lines?.length ?? -1, carriedForward: run?.carriedForward?.length ?? -1, totalMinor: run?.totalMinor ?? -1 });
        expectStatus(await call(base, 'POST', `/v1/payouts/${payoutId}/cancel`, finance, { reason: 'bench: the next repetition pays the same lines' }), [200, 201], `POST /v1/payouts/${payoutId}/cancel`);
        balanceMs.push(expectStatus(await call(base, 'GET', '/v1/commissions/balances', finance), [200], 'GET /v1/commissions/balances').ms);
      }
      const converted = await conversionLatencies(base, partners, conversions);
      const first = runs[0]!;
      const warm = runs.slice(1).map((x) => x.ms).sort((a, b) => a - b);
      const balanceSorted = [...balanceMs].sort((a, b) => a - b);
      return [
        figure({
          id: 'statements.issue.p50',
          item: 7,
          name: `statement p50, one partner's quarter (${sampled ? `sample of ${st.length}` : `all ${st.length}`} partners)`,
          value: percentile(st, 50),
          unit: 'ms',
          baseline: { name: 'GET /v1/attribution?partnerId= p50, same partners', value: percentile(at, 50), unit: 'ms' },
          details: statementDetails,
        }),
        figure({
          id: 'statements.issue.p99',
          item: 7,
          name: 'statement p99, one partner\'s quarter',
          value: percentile(st, 99),
          unit: 'ms',
          baseline: { name: 'GET /v1/attribution?partnerId= p99, same partners', value: percentile(at, 99), unit: 'ms' },
        }),
        figure({
          id: 'payouts.run',
          item: 7,
          name: `payout run over every partner (${first.lines} lines, ${first.carriedForward} carried forward)`,
          value: first.ms,
          unit: 'ms',
          baseline: { name: 'GET /v1/commissions/balances (every partner)', value: percentile(balanceSorted, 50), unit: 'ms' },
          details: { runs, warmRunsMs: warm, balancesMs: balanceMs, note: 'value: the first run of the service process (reads every accrual of the log); warmRunsMs: later runs, each after the previous was cancelled' },
        }),
        ...converted,
      ];
    } finally {
      await child.stop();
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** Attributions of each kind timed by `conversionLatencies`. */
const CONVERSIONS = 200;

/**
 * Issue #23's "attribution with a currency conversion": `POST /v1/revenue-attributions` of an amount in EUR (the
 * program reports in USD: the ledger converts it at the rate in force at the recognition date, exact decimal
 * arithmetic, and records rate, date and source) beside the same attribution in USD (no conversion), taking turns,
 * concurrency 1, on the large log. Unregistered attributions (no deal), so that nothing else differs; the partner is
 * the first active one found. Each answer must be a 201; the EUR ones must carry the conversion.
 */
async function conversionLatencies(base: string, partners: number, count: number): Promise<Figure[]> {
  const finance = BENCH_KEYS.finance;
  const rate = await call(base, 'POST', '/v1/exchange-rates', finance, { currency: 'EUR', date: '2025-01-01', rate: '1.0834', source: 'bench' });
  expectStatus(rate, [200, 201], 'POST /v1/exchange-rates');
  const body = (id: string, currency: string, partner: string) => ({
    attributionId: id,
    amount: { amountMinor: 100_00, currency },
    recognizedAt: '2025-06-20',
    credits: [{ partnerId: partner, type: 'sourced', shareBps: 10_000 }],
  });
  // The first partner an attribution may credit (active then): a refusal appends nothing, so probing is free.
  let partner: string | undefined;
  for (let n = 1; n <= Math.min(partners, 50) && partner === undefined; n++) {
    const probe = await call(base, 'POST', '/v1/revenue-attributions', finance, body(`A-BENCH-PROBE-${n}`, 'USD', partnerId(n)));
    if (probe.status === 201) partner = partnerId(n);
  }
  if (partner === undefined) throw new Error('no partner among the first 50 could be credited with an attribution');
  const usd: number[] = [];
  const eur: number[] = [];
  const bar = progress(`attributions with and without a currency conversion, ${count} each`);
  for (let i = 0; i < count; i++) {
    usd.push(expectStatus(await call(base, 'POST', '/v1/revenue-attributions', finance, body(`A-BENCH-USD-${i}`, 'USD', partner)), [201], 'POST /v1/revenue-attributions (USD)').ms);
    const converted = expectStatus(await call(base, 'POST', '/v1/revenue-attributions', finance, body(`A-BENCH-EUR-${i}`, 'EUR', partner)), [201], 'POST /v1/revenue-attributions (EUR)');
    if (!converted.body.includes('"conversion"')) throw new Error(`an EUR attribution answered without its conversion: ${converted.body.slice(0, 300)}`);
    eur.push(converted.ms);
    if (i % 20 === 0) bar.update(i, count);
  }
  bar.finish(`${count} of each`);
  usd.sort((a, b) => a - b);
  eur.sort((a, b) => a - b);
  return [50, 99].map((p) =>
    figure({
      id: `attribution.converted.p${p}`,
      item: 7,
      name: `attribution in EUR, converted to the program's USD, p${p} (HTTP)`,
      value: percentile(eur, p),
      unit: 'ms',
      baseline: { name: `the same attribution in USD (no conversion), p${p}`, value: percentile(usd, p), unit: 'ms' },
      details: { count, partner },
    }),
  );
}
