import { figure, percentile, unmeasured, type Figure } from '../report.js';
import { BENCH_KEYS } from '../service.js';
import { startServiceChild, waitFor200 } from '../spawn.js';

/**
 * A query of item 4. `path` builds one request (a partner picked at random each time, so caches do not
 * flatter the figure). A query whose route does not answer 200 to its first request is reported `pending`:
 * this is the extension point for the read models other capabilities are still adding.
 */
export interface QueryScenario {
  readonly id: string;
  readonly name: string;
  readonly path: (partnerId: string) => string;
}

/** The four queries, plus the partner lookup that exists already (the same target applies). */
export const QUERIES: readonly QueryScenario[] = [
  {
    id: 'attribution-by-quarter',
    name: 'attribution by quarter, one partner',
    path: (p) => `/v1/attribution?partnerId=${p}&groupBy=quarter&from=2024-01-01T00:00:00.000Z&to=2025-12-31T23:59:59.999Z`,
  },
  { id: 'tier-standing', name: 'tier standing, one partner', path: (p) => `/v1/tier-standings/${p}` },
  { id: 'open-conflicts', name: 'open registration conflicts', path: () => '/v1/registration-conflicts?status=open' },
  { id: 'mdf-funds', name: 'MDF funds, one partner', path: (p) => `/v1/mdf/funds?partnerId=${p}` },
  { id: 'partner', name: 'partner by id', path: (p) => `/v1/partners/${p}` },
];

const TARGET = { valueBelow: 10, text: 'p99 < 10 ms' };

async function timed(url: string): Promise<{ ms: number; status: number; body: string }> {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${BENCH_KEYS.admin}` } });
  const body = await res.text();
  return { ms: performance.now() - started, status: res.status, body };
}

async function latencies(base: string, path: (partnerId: string) => string, partners: number, requests: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < requests; i++) {
    const p = `P${String(1 + Math.floor(Math.random() * partners)).padStart(6, '0')}`;
    const r = await timed(`${base}${path(p)}`);
    if (r.status !== 200) throw new Error(`${path(p)} answered ${r.status}: ${r.body.slice(0, 200)}`);
    out.push(r.ms);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Item 4: p50/p99 of each query at concurrency 1 against the service on the full data directory, next to the
 * same client's round trip to `GET /health` (the HTTP floor of any query).
 */
export async function measureQueries(dataDir: string, partners: number, requests: number): Promise<Figure[]> {
  const child = startServiceChild(dataDir);
  try {
    const base = await child.url;
    await waitFor200(`${base}/health/ready`, 120_000);
    await latencies(base, () => '/health', partners, Math.min(200, requests));
    const floor = await latencies(base, () => '/health', partners, requests);
    const floorP50 = percentile(floor, 50);
    const floorP99 = percentile(floor, 99);
    const figures: Figure[] = [];
    for (const q of QUERIES) {
      const probe = await timed(`${base}${q.path('P000001')}`);
      const row = { id: `query.${q.id}.p99`, item: 4 as const, name: `query p99: ${q.name}`, unit: 'ms', target: TARGET };
      if (probe.status !== 200) {
        figures.push(unmeasured(row, 'pending', `${q.path('P000001')} answered ${probe.status}: the read model or route is not there yet`));
        continue;
      }
      process.stderr.write(`query ${q.id}: ${requests} requests\n`);
      await latencies(base, q.path, partners, Math.min(50, requests));
      const ms = await latencies(base, q.path, partners, requests);
      figures.push(
        figure({
          ...row,
          value: percentile(ms, 99),
          baseline: { name: 'GET /health p99', value: floorP99, unit: 'ms' },
          details: { requests, p50: percentile(ms, 50), p90: percentile(ms, 90), max: ms[ms.length - 1], bytes: probe.body.length },
        }),
        figure({
          id: `query.${q.id}.p50`,
          item: 4,
          name: `query p50: ${q.name}`,
          value: percentile(ms, 50),
          unit: 'ms',
          baseline: { name: 'GET /health p50', value: floorP50, unit: 'ms' },
        }),
      );
    }
    return figures;
  } finally {
    await child.stop();
  }
}
