import autocannon, { type Result } from 'autocannon';
import { figure, unmeasured, type Figure } from '../report.js';
import { BENCH_KEYS } from '../service.js';
import { startServiceChild, waitFor200 } from '../spawn.js';

/**
 * A command of item 2, driven by autocannon: `body(i)` is the i-th request's body (unique ids, so every
 * request is a new command). A command whose route does not answer 2xx to a probe is reported `pending`:
 * the extension point for capabilities other engineers are still adding.
 */
export interface CommandScenario {
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly body: (i: number) => unknown;
  /** Whether the issue sets targets on it (deal registration) or it is informative only. */
  readonly targeted: boolean;
}

const PRODUCTS = ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005', 'SKU-006', 'SKU-007', 'SKU-008'];

export function commandScenarios(partners: readonly string[], run: string): CommandScenario[] {
  const partner = (i: number) => partners[i % partners.length]!;
  return [
    {
      id: 'deal-registration',
      name: 'HTTP deal registrations',
      path: '/v1/deals',
      targeted: true,
      body: (i) => ({
        dealId: `HB${run}-${i}`,
        partnerId: partner(i * 7),
        // 5,000 customers: registrations of one customer meet now and then (conflicts, revision retries).
        customer: { name: `Bench customer ${i % 5000}`, domain: `bench-customer-${i % 5000}.com`, country: 'US' },
        products: [PRODUCTS[i % PRODUCTS.length]!, PRODUCTS[(i * 3 + 1) % PRODUCTS.length]!].filter((p, k, a) => a.indexOf(p) === k),
        estimatedValue: { amountMinor: 1_000_000 + (i % 1000) * 1000, currency: 'USD' },
        expectedCloseDate: '2031-06-30T00:00:00.000Z',
      }),
    },
    {
      id: 'partner-enrollment',
      name: 'HTTP partner enrollments (interim)',
      path: '/v1/partners',
      targeted: false,
      body: (i) => ({ partnerId: `HB${run}-P${i}`, name: `Bench partner ${i}`, type: 'reseller', domain: `bench-${run}-partner-${i}.com`, country: 'DE' }),
    },
  ];
}

/** The partners the seeded log left active (commands for the others are refused). */
async function activePartners(url: string): Promise<string[]> {
  const res = await fetch(`${url}/v1/partners?status=active&limit=1000`, { headers: { authorization: `Bearer ${BENCH_KEYS.admin}` } });
  const body = (await res.json()) as { items?: { partnerId: string }[] };
  const ids = (body.items ?? []).map((p) => p.partnerId);
  if (ids.length === 0) throw new Error(`no active partner in the seeded log (GET /v1/partners answered ${res.status})`);
  return ids;
}

/**
 * Waits until the read models have applied everything (readiness says `lag 0 events`) and answers how long that
 * took: after each command run, so that a runner still applying that run's events (in a worker thread, or on the
 * loop) never weighs on the next measurement, the no-op route's included.
 */
async function settled(url: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    const res = await fetch(`${url}/health/ready`);
    const body = (await res.json()) as { checks?: { projections?: { detail?: string } } };
    if (body.checks?.projections?.detail === 'lag 0 events') return performance.now() - started;
    if (performance.now() - started > 60_000) throw new Error(`the read models did not catch up within 60 s: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function load(url: string, path: string, body: (i: number) => unknown, connections: number, duration: number): Promise<Result> {
  let i = 0;
  return autocannon({
    url,
    connections,
    duration,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        headers: { authorization: `Bearer ${BENCH_KEYS.ops}`, 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(body(i++)) }),
      },
    ],
  });
}

function summary(r: Result) {
  return {
    okPerSecond: r['2xx'] / r.duration,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    seconds: r.duration,
  };
}

type Summary = ReturnType<typeof summary>;

/** The repetition with the median rate, and the median of each latency percentile over the repetitions. */
function medianOf(runs: readonly Summary[]): Summary {
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const byRate = [...runs].sort((a, b) => a.okPerSecond - b.okPerSecond)[Math.floor(runs.length / 2)]!;
  return { ...byRate, p50: mid(runs.map((r) => r.p50)), p90: mid(runs.map((r) => r.p90)), p99: mid(runs.map((r) => r.p99)) };
}

/**
 * Item 2: commands/s and p50/p99 at `connections` concurrent connections (autocannon in this process, the
 * service in a child: one core each on a two-core machine), against `POST /bench/noop` on the same app.
 * The no-op route and every command are measured `repeats` times, taking turns, and the medians reported: a
 * burst of other work on the machine then weighs on a figure and its baseline alike.
 */
export async function measureHttp(dataDir: string, o: { connections: number; duration: number; warmup: number; repeats: number }): Promise<Figure[]> {
  const child = startServiceChild(dataDir, { noop: true });
  const run = Date.now().toString(36);
  try {
    const url = await child.url;
    await waitFor200(`${url}/health/ready`, 120_000);
    const scenarios = commandScenarios(await activePartners(url), run);
    const figures: Figure[] = [];
    const rowsOf = (s: CommandScenario) => ({
      rate: { id: `http.${s.id}.rate`, item: 2 as const, name: `${s.name}, ${o.connections} connections`, unit: 'commands/s', target: s.targeted ? { ratioAtLeast: 0.4, text: '≥ 0.4× baseline' } : undefined },
      p99: { id: `http.${s.id}.p99`, item: 2 as const, name: `${s.name}, p99 latency`, unit: 'ms', target: s.targeted ? { valueBelow: 50, text: '< 50 ms' } : undefined },
      p50: { id: `http.${s.id}.p50`, item: 2 as const, name: `${s.name}, p50 latency`, unit: 'ms', target: undefined },
    });
    const runnable: CommandScenario[] = [];
    for (const s of scenarios) {
      const probe = await fetch(`${url}${s.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BENCH_KEYS.ops}`, 'content-type': 'application/json' },
        body: JSON.stringify(s.body(2_000_000_000)),
      });
      const probeText = await probe.text();
      if (probe.status < 300) {
        runnable.push(s);
        continue;
      }
      const missing = probe.status === 404 || probe.status === 405;
      const note = `POST ${s.path} answered ${probe.status} (${probeText.slice(0, 160)})${missing ? ': the capability is not there yet' : ''}`;
      for (const r of Object.values(rowsOf(s))) figures.push(unmeasured(r, missing ? 'pending' : 'failed', note));
    }
    const noopBody = scenarios[0]!.body;
    // Warm-up commands get ids of their own, so the measured ones are all new commands too.
    process.stderr.write(`http: warm-up, ${o.warmup} s per route\n`);
    await load(url, '/bench/noop', noopBody, o.connections, o.warmup);
    for (const s of runnable) await load(url, s.path, (i) => s.body(1_000_000 + i), o.connections, o.warmup);
    await settled(url);
    const noopRuns: Summary[] = [];
    const commandRuns = new Map<CommandScenario, Summary[]>(runnable.map((s) => [s, []]));
    const catchUpMs = new Map<CommandScenario, number[]>(runnable.map((s) => [s, []]));
    for (let r = 1; r <= o.repeats; r++) {
      const tag = o.repeats > 1 ? ` (${r}/${o.repeats})` : '';
      process.stderr.write(`http: POST /bench/noop, ${o.connections} connections, ${o.duration} s${tag}\n`);
      noopRuns.push(summary(await load(url, '/bench/noop', noopBody, o.connections, o.duration)));
      for (const s of runnable) {
        process.stderr.write(`http: POST ${s.path}, ${o.connections} connections, ${o.duration} s${tag}\n`);
        // Each repetition's commands are new ones too: ids from a range of their own.
        commandRuns.get(s)!.push(summary(await load(url, s.path, (i) => s.body(r * 10_000_000 + i), o.connections, o.duration)));
        catchUpMs.get(s)!.push(Math.round(await settled(url)));
      }
    }
    const noop = medianOf(noopRuns);
    const rates = (runs: readonly Summary[]) => runs.map((x) => Math.round(x.okPerSecond));
    for (const s of runnable) {
      const runs = commandRuns.get(s)!;
      const r = medianOf(runs);
      const rows = rowsOf(s);
      const failures = runs.filter((x) => x.non2xx || x.errors);
      const note = failures.length
        ? failures.map((x) => `${x.non2xx} non-2xx, ${x.errors} errors (${JSON.stringify(x.statusCodes)})`).join('; ') + '; only 2xx counted'
        : undefined;
      figures.push(
        figure({
          ...rows.rate,
          value: r.okPerSecond,
          baseline: { name: 'POST /bench/noop', value: noop.okPerSecond, unit: 'requests/s' },
          ...(note ? { note } : {}),
          // How long the read models took to apply the rest of each run once its load stopped (0: they kept up).
          details: { command: r, noop, repeats: rates(runs), noopRepeats: rates(noopRuns), readModelsCaughtUpMs: catchUpMs.get(s) },
        }),
        figure({ ...rows.p99, value: r.p99, baseline: { name: 'noop p99', value: noop.p99, unit: 'ms' }, details: { repeats: runs.map((x) => x.p99), noopRepeats: noopRuns.map((x) => x.p99) } }),
        figure({ ...rows.p50, value: r.p50, baseline: { name: 'noop p50', value: noop.p50, unit: 'ms' } }),
      );
    }
    return figures;
  } finally {
    await child.stop();
  }
}
