import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { KEYS } from './support/app.js';
import { startService, type ServiceProcess } from './support/service-process.js';

/**
 * The compiled service under a mixed command load with Idempotency-Keys, killed with SIGKILL part-way,
 * restarted on the same data. Everything it acknowledged must be there at the positions it said; resending
 * every command (acknowledged or not) must create nothing twice; the read models must equal a rebuild from
 * zero; the hash chain must verify.
 */
const CLI = resolve('dist/apps/cli/src/main.js');
const CHAINS = 48; // one partner's story each, all at once: 48 commands in flight
const KILL_AT = [0.3, 0.6] as const; // of the planned commands acknowledged

interface Command {
  readonly chain: number;
  readonly step: number;
  readonly key: string;
  readonly apiKey: string;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

interface RecordedRef {
  readonly type: string;
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: string;
  readonly position: string;
}

interface LoggedEvent extends RecordedRef {
  readonly data: Record<string, unknown>;
  readonly metadata: { readonly commandId: string };
}

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

/** Partner `i`'s story, in order; some customers and one MDF fund are shared, so chains contend for streams. */
function plan(run: string): Command[][] {
  return Array.from({ length: CHAINS }, (_, i) => {
    const partnerId = `L${run}-${i}`;
    const steps: Omit<Command, 'chain' | 'step' | 'key'>[] = [
      { apiKey: KEYS.ops, method: 'POST', path: '/v1/partners', body: { partnerId, name: `Load partner ${i}`, type: 'reseller', domain: `load-${run}-${i}.com` } },
      { apiKey: KEYS.ops, method: 'POST', path: `/v1/partners/${partnerId}/activate`, body: {} },
      { apiKey: KEYS.ops, method: 'POST', path: `/v1/partners/${partnerId}/certifications`, body: { sellerId: 'S-1', certification: 'Sales', earnedAt: '2026-01-15' } },
      {
        apiKey: KEYS.ops,
        method: 'POST',
        path: '/v1/deals',
        body: {
          dealId: `LD${run}-${i}`,
          partnerId,
          // Eight customers for 48 partners: registrations collide in the customer streams, and conflict.
          customer: { name: `Customer ${i % 8}`, domain: `customer-${run}-${i % 8}.com` },
          products: [`PROD-${i % 3}`],
          estimatedValue: usd(50_000_00),
          expectedCloseDate: '2026-06-30',
        },
      },
      { apiKey: KEYS.ops, method: 'POST', path: `/v1/deals/LD${run}-${i}/approve`, body: {} },
      {
        apiKey: KEYS.finance,
        method: 'POST',
        path: '/v1/revenue-attributions',
        body: {
          attributionId: `LA${run}-${i}`,
          ...(i % 2 === 0 ? { dealId: `LD${run}-${i}` } : {}),
          amount: usd(10_000_00 + i),
          recognizedAt: '2026-02-01',
          credits: [{ partnerId, type: 'sourced', shareBps: 10_000 }],
        },
      },
      { apiKey: KEYS.ops, method: 'POST', path: '/v1/mdf/allocations', body: { partnerId, period: '2026-Q1', amount: usd(1_000_00) } },
      { apiKey: KEYS.ops, method: 'POST', path: '/v1/mdf/requests', body: { requestId: `LR${run}-${i}`, partnerId, period: '2026-Q1', activity: 'Webinar', amount: usd(400_00) } },
      { apiKey: KEYS.ops, method: 'POST', path: `/v1/mdf/requests/LR${run}-${i}/approve`, body: {} },
      { apiKey: KEYS.ops, method: 'POST', path: `/v1/mdf/requests/LR${run}-${i}/claims`, body: { claimId: `LC${run}-${i}`, amount: usd(100_00), proofOfPerformance: ['https://proof.example/x'] } },
      // Everyone also asks the first partner's fund for more than it holds in total: its invariants must hold.
      { apiKey: KEYS.ops, method: 'POST', path: '/v1/mdf/requests', body: { requestId: `LS${run}-${i}`, partnerId: `L${run}-0`, period: '2026-Q1', activity: 'Shared', amount: usd(90_00) } },
      { apiKey: KEYS.ops, method: 'POST', path: `/v1/mdf/requests/LS${run}-${i}/approve`, body: {} },
    ];
    return steps.map((s, step) => ({ ...s, chain: i, step, key: `crash-${run}-${i}-${step}` }));
  });
}

async function send(url: string, c: Command): Promise<Answer> {
  const res = await fetch(`${url}${c.path}`, {
    method: c.method,
    headers: { authorization: `Bearer ${c.apiKey}`, 'content-type': 'application/json', 'idempotency-key': c.key },
    body: JSON.stringify(c.body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
}

async function get<T>(url: string, path: string): Promise<T> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
  if (res.status !== 200) throw new Error(`GET ${path} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The whole log, through the audit API. */
async function readLog(url: string): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  let from = '0';
  for (;;) {
    const page = await get<{ items: LoggedEvent[]; nextPosition: string | null }>(url, `/v1/audit/events?fromPosition=${from}&limit=1000`);
    events.push(...page.items);
    if (page.nextPosition === null) return events;
    from = page.nextPosition;
  }
}

function ledger(dataDir: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LEDGER_DATA_DIR: dataDir, LEDGER_STORE: 'sqlite', LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

/** Every table of a read-model file, rows sorted: two files with the same content compare equal. */
function tables(file: string): Record<string, string[]> {
  const db = new Database(file, { readonly: true });
  try {
    const names = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    return Object.fromEntries(names.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all().map((r) => JSON.stringify(r)).sort()]));
  } finally {
    db.close();
  }
}

/** Runs the chains with every chain's commands in order, all chains at once, until `stop()` says so. */
async function drive(chains: readonly Command[][], each: (c: Command) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  await Promise.all(
    chains.map(async (chain) => {
      for (const c of chain) {
        if (stop()) return;
        await each(c);
      }
    }),
  );
}

describe('crash under load', () => {
  const dirs: string[] = [];
  const services: ServiceProcess[] = [];
  afterAll(async () => {
    for (const s of services) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('loses nothing acknowledged, applies nothing twice, and its read models equal a rebuild from the log', async () => {
    if (!existsSync(CLI)) throw new Error('run `npm run build` first: this suite runs the compiled service and CLI');
    const dir = mkdtempSync(join(tmpdir(), 'ledger-crash-'));
    dirs.push(dir);
    const run = Date.now().toString(36);
    const started = Date.now();

    let svc = await startService(dir);
    services.push(svc);
    // Not part of the load: a program under which new partners may receive MDF.
    const program = await fetch(`${svc.url}/v1/tier-program`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${KEYS.ops}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        reportingCurrency: 'USD',
        lookbackDays: 365,
        downgradeGraceDays: 90,
        protectionDays: 90,
        maxExtensionDays: 60,
        dealRegistrationDiscountBps: 1000,
        tiers: [{ name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: true }],
      }),
    });
    expect(program.status).toBe(200);

    const chains = plan(run);
    const all = chains.flat();
    const killAfter = Math.floor(all.length * (KILL_AT[0] + Math.random() * (KILL_AT[1] - KILL_AT[0])));
    const acked = new Map<string, Answer>();
    const sent = new Set<string>();
    let killed = false;
    let inFlight = 0;
    let maxInFlight = 0;
    const url = svc.url;
    await drive(
      chains,
      async (c) => {
        sent.add(c.key);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          const answer = await send(url, c);
          acked.set(c.key, answer);
          if (!killed && acked.size >= killAfter) {
            killed = true;
            svc.child.kill('SIGKILL');
          }
        } catch {
          // The connection died with the process: not acknowledged.
        } finally {
          inFlight -= 1;
        }
      },
      () => killed,
    );
    if (!killed) svc.child.kill('SIGKILL');
    expect(await svc.exited).toMatchObject({ signal: 'SIGKILL' });
    const loadMs = Date.now() - started;
    expect(maxInFlight).toBeGreaterThanOrEqual(32);
    expect(acked.size).toBeGreaterThan(0);
    // Nothing answered 5xx under load: refusals (conflicts, rules) are 4xx.
    expect([...acked.values()].filter((a) => a.status >= 500)).toEqual([]);

    // Restart on the same data.
    svc = await startService(dir);
    services.push(svc);

    // 1. Every acknowledged command's events are in the log, at the positions its answer gave.
    const before = await readLog(svc.url);
    const byId = new Map(before.map((e) => [e.eventId, e]));
    const okAcks = all.filter((c) => (acked.get(c.key)?.status ?? 0) < 300 && acked.has(c.key));
    const lost: string[] = [];
    for (const c of okAcks) {
      for (const ref of acked.get(c.key)!.body.events as RecordedRef[]) {
        const e = byId.get(ref.eventId);
        if (e === undefined || e.position !== ref.position || e.streamId !== ref.streamId || e.revision !== ref.revision || e.type !== ref.type) {
          lost.push(`${c.key} ${c.method} ${c.path}: ${ref.type} at ${ref.position} ${e === undefined ? 'is missing' : `is now ${e.type} at ${e.position}`}`);
        }
      }
    }
    expect(lost).toEqual([]);

    // 2. Every command again, with its key: an acknowledged one answers what it answered, none applies twice.
    const resent = new Map<string, Answer>();
    const url2 = svc.url;
    await drive(chains, async (c) => {
      resent.set(c.key, await send(url2, c));
    });
    const changed = okAcks.filter((c) => JSON.stringify(resent.get(c.key)) !== JSON.stringify(acked.get(c.key))).map((c) => ({ key: c.key, first: acked.get(c.key), again: resent.get(c.key) }));
    expect(changed).toEqual([]);
    expect([...resent.values()].filter((a) => a.status >= 500)).toEqual([]);
    const headAfterResend = (await readLog(svc.url)).length;
    // A second round is all replays: the log does not move.
    await drive(chains, async (c) => {
      const again = await send(url2, c);
      if (again.status < 300) expect(again).toEqual(resent.get(c.key));
    });
    const log = await readLog(svc.url);
    expect(log.length).toBe(headAfterResend);

    // Each answer's events are in the log; no business fact is recorded twice.
    const logged = new Map(log.map((e) => [e.eventId, e]));
    const missing = all.flatMap((c) => {
      const a = resent.get(c.key)!;
      return a.status < 300 ? (a.body.events as RecordedRef[]).filter((r) => logged.get(r.eventId)?.position !== r.position).map((r) => `${c.key}: ${r.type} ${r.eventId}`) : [];
    });
    expect(missing).toEqual([]);
    const once = new Map<string, number>();
    const fact = (e: LoggedEvent): string | undefined => {
      const d = e.data;
      switch (e.type) {
        case 'PartnerEnrolled':
        case 'PartnerActivated':
          return `${e.type} ${String(d.partnerId)}`;
        case 'SellerCertified':
          return `${e.type} ${String(d.partnerId)} ${String(d.sellerId)} ${String(d.certification)} ${String(d.earnedAt)}`;
        case 'DealRegistered':
        case 'DealRegistrationApproved':
        case 'DealRegistrationRejected':
          return `${e.type} ${String(d.dealId)}`;
        case 'RevenueAttributed':
          return `${e.type} ${String(d.attributionId)}`;
        case 'MdfFundsAllocated':
          return `${e.type} ${String(d.partnerId)} ${String(d.period)}`;
        case 'MdfRequested':
        case 'MdfApproved':
          return `${e.type} ${String(d.requestId)}`;
        case 'MdfClaimSubmitted':
          return `${e.type} ${String(d.claimId)}`;
        default:
          return undefined;
      }
    };
    for (const e of log) {
      const f = fact(e);
      if (f !== undefined) once.set(f, (once.get(f) ?? 0) + 1);
    }
    const duplicated = [...once].filter(([, n]) => n > 1).map(([f, n]) => `${f} ×${n}`);
    expect(duplicated).toEqual([]);

    // The money invariants of the contended fund, and one approved registration per customer and product.
    const head = log[log.length - 1]!.position;
    const funds = await get<{ items: { partnerId: string; allocatedMinor: number; approvedMinor: number; claimedMinor: number; availableMinor: number }[] }>(
      svc.url,
      `/v1/mdf/funds?minPosition=${head}&limit=1000`,
    );
    for (const f of funds.items) {
      expect(f.approvedMinor).toBeLessThanOrEqual(f.allocatedMinor);
      expect(f.availableMinor).toBe(f.allocatedMinor - f.approvedMinor);
      expect(f.claimedMinor).toBeLessThanOrEqual(f.approvedMinor);
    }
    const deals = await get<{ items: { customerKey: string; products: string[]; status: string }[] }>(svc.url, `/v1/deals?minPosition=${head}&status=approved&limit=1000`);
    const covered = deals.items.flatMap((d) => d.products.map((p) => `${d.customerKey} ${p}`));
    expect(covered.length).toBe(new Set(covered).size);

    // 3. The read models equal a rebuild from zero of the same log.
    const verified = await fetch(`${svc.url}/v1/audit/verify`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.auditor}`, 'content-type': 'application/json' }, body: '{}' });
    expect(((await verified.json()) as { ok: boolean }).ok).toBe(true);
    svc.child.kill('SIGTERM');
    await svc.exited;
    const copy = mkdtempSync(join(tmpdir(), 'ledger-crash-rebuilt-'));
    dirs.push(copy);
    cpSync(join(dir, 'events.sqlite'), join(copy, 'events.sqlite'));
    const rebuilt = await ledger(copy, ['rebuild']);
    expect({ code: rebuilt.code, stderr: rebuilt.code === 0 ? '' : rebuilt.stderr }).toEqual({ code: 0, stderr: '' });
    expect(tables(join(copy, 'read-models.sqlite'))).toEqual(tables(join(dir, 'read-models.sqlite')));

    // 4. The hash chain verifies, offline too.
    const verify = await ledger(dir, ['verify']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, checkedEvents: log.length });

    const unacked = all.filter((c) => sent.has(c.key) && !acked.has(c.key)).length;
    process.stdout.write(
      `crash under load: ${all.length} commands planned over ${CHAINS} chains (max ${maxInFlight} in flight); killed with SIGKILL after ${acked.size} answers ` +
        `(${okAcks.length} acknowledged 2xx, ${acked.size - okAcks.length} refused 4xx) in ${loadMs} ms; ${unacked} in flight at the kill, ${all.length - sent.size} never sent; ` +
        `lost ${lost.length}, changed on resend ${changed.length}, duplicated ${duplicated.length}; ${log.length} events, read models equal a rebuild, verify ok\n`,
    );
  }, 180_000);
});
