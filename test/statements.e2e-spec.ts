import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KEYS, removeDir, startApp, TestClock, type TestApp } from './support/app.js';

/** The compiled CLI and the standalone verifier, run as users run them. */
const CLI = resolve('dist/apps/cli/src/main.js');
const VERIFIER = resolve('tools/verifier/verify.mjs');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
type Statement = Record<string, unknown> & { content: Record<string, unknown>; restatement: { asOfPosition: string; changes: unknown[] } };

describe('partner statements (v2), end to end', () => {
  let t: TestApp;
  let closed = false;
  let work: string;
  const clock = new TestClock();
  let issued: Statement;

  async function ok(method: string, path: string, body?: unknown, key: string = KEYS.admin): Promise<Record<string, unknown>> {
    const r = await t.request(method, path, { body, key });
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    return r.body;
  }

  const tampered = (s: Statement, edit: (copy: Statement) => void): Statement => {
    const copy = JSON.parse(JSON.stringify(s)) as Statement;
    edit(copy);
    return copy;
  };

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error('run `npm run build` first: this suite runs the compiled CLI in dist/');
    work = mkdtempSync(join(tmpdir(), 'ledger-statements-'));
    t = await startApp({ clock });
    await ok('PUT', '/v1/tier-program', {
      reportingCurrency: 'USD',
      lookbackDays: 365,
      downgradeGraceDays: 90,
      protectionDays: 90,
      maxExtensionDays: 60,
      dealRegistrationDiscountBps: 1000,
      tiers: [
        { name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: true },
        { name: 'Gold', rank: 1, minSourcedRevenueMinor: 5_000_00, minCertifiedSellers: 0, minWonDeals: 1, discountBps: 2000, mdfEligible: true },
      ],
    });
    for (const [partnerId, domain] of [['P1', 'p1-partner.com'], ['P2', 'p2-partner.com']] as const) {
      await ok('POST', '/v1/partners', { partnerId, name: `Partner ${partnerId}`, type: 'reseller', domain });
      await ok('POST', `/v1/partners/${partnerId}/activate`, {});
    }
    await ok('POST', '/v1/deals', { dealId: 'D1', partnerId: 'P1', customer: { name: 'Contoso', domain: 'contoso.com' }, products: ['X'], estimatedValue: usd(20_000_00), expectedCloseDate: '2026-03-31' });
    await ok('POST', '/v1/deals/D1/approve', {});
    clock.advance(3_600_000);
    await ok('POST', '/v1/deals/D1/won', { amount: usd(10_000_00), closedAt: clock.now().toISOString() });
    await ok('POST', '/v1/revenue-attributions', { attributionId: 'A1', dealId: 'D1', amount: usd(10_000_00), recognizedAt: '2026-03-02T12:00:00Z', credits: [{ partnerId: 'P1', type: 'sourced', shareBps: 10_000 }] }, KEYS.finance);
    await ok('POST', '/v1/mdf/allocations', { partnerId: 'P1', period: '2026-Q1', amount: usd(2_000_00) });
    await ok('POST', '/v1/tier-evaluations', { asOf: '2026-03-03' });
  }, 60_000);

  afterAll(async () => {
    if (!closed) await t.close();
    removeDir(t.dataDir);
    removeDir(work);
  });

  it('issues a statement (finance) that verifies over HTTP; a re-issue is a no-op, another body a 409', async () => {
    const r = await t.request<Statement>('POST', '/v1/statements', { body: { statementId: 'ST-1', partnerId: 'P1', period: '2026-Q1' }, key: KEYS.finance });
    expect(r.status).toBe(201);
    issued = r.body;
    const head = await t.store.headPosition();
    expect(issued).toMatchObject({
      statementId: 'ST-1',
      partnerId: 'P1',
      period: '2026-Q1',
      position: String(head - 1n),
      digest: { size: expect.any(Number), rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      programVersion: 1,
      commissionPlanVersion: 0,
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      signature: expect.any(String),
      restatement: { changes: [] },
    });
    expect(issued.content).toMatchObject({
      reportingCurrency: 'USD',
      // Enrolled in the quarter, promoted by the evaluation of 2026-03-03.
      tier: { atStart: null, atEnd: 'Gold', changes: [{ to: 'Registered', kind: 'enrolled' }, { from: 'Registered', to: 'Gold', kind: 'promotion', at: '2026-03-03T00:00:00.000Z' }] },
      revenue: { sourced: { attributedMinor: 10_000_00, reversedMinor: 0, netMinor: 10_000_00 }, attributions: 1 },
      deals: { registered: 1, approved: 1, won: 1, lost: 0, wonMinor: { USD: 10_000_00 } },
      mdf: { USD: { allocatedMinor: 2_000_00 } },
      commissions: { openingMinor: 0, accruedMinor: 0, clawedBackMinor: 0, paidMinor: 0, closingMinor: 0 },
    });
    const digest = await t.request('GET', `/v1/audit/digest?position=${issued.position as string}`, { key: KEYS.auditor });
    expect(issued.digest).toEqual({ size: digest.body.size, rootHash: digest.body.rootHash });

    const v = await t.request('POST', '/v1/audit/statements/verify', { body: issued, key: KEYS.auditor });
    expect([v.status, v.body]).toEqual([200, { ok: true, contentMatches: true, digestMatches: true, signatureValid: true }]);

    const again = await t.request<Statement>('POST', '/v1/statements', { body: { statementId: 'ST-1', partnerId: 'P1', period: '2026-Q1' }, key: KEYS.admin });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ position: issued.position, signature: issued.signature, contentHash: issued.contentHash });
    expect(await t.store.headPosition()).toBe(head);
    const other = await t.request('POST', '/v1/statements', { body: { statementId: 'ST-1', partnerId: 'P1', period: '2026-03' }, key: KEYS.finance });
    expect([other.status, other.body.type]).toEqual([409, 'already-exists']);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('64 concurrent issues of one id append one statement; of one id with two bodies, one wins and the rest are the same or 409', async () => {
    const head = await t.store.headPosition();
    const same = await Promise.all(Array.from({ length: 64 }, () => t.request<Statement>('POST', '/v1/statements', { body: { statementId: 'ST-RACE', partnerId: 'P2', period: '2026-03' }, key: KEYS.finance })));
    expect(new Set(same.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(same.map((r) => r.body.signature)).size).toBe(1);
    expect(await t.store.headPosition()).toBe(head + 1n);

    const mixed = await Promise.all(
      Array.from({ length: 64 }, (_, i) => t.request<Statement>('POST', '/v1/statements', { body: { statementId: 'ST-RACE-2', partnerId: 'P2', period: i % 2 ? '2026-03' : '2026-Q1' }, key: KEYS.finance })),
    );
    const winner = mixed.find((r) => r.status === 201)!.body;
    for (const r of mixed) {
      if (r.status === 201) expect(r.body).toMatchObject({ period: winner.period, signature: winner.signature });
      else expect([r.status, (r.body as { type?: string }).type]).toEqual([409, 'already-exists']);
    }
    expect(mixed.filter((r) => r.status === 409).length).toBeGreaterThan(0);
    expect(await t.store.headPosition()).toBe(head + 2n);
  });

  it('is verifiable by hand with node:crypto alone (docs/statements.md, "By hand")', async () => {
    const { createHash, createPublicKey, verify } = await import('node:crypto');
    const canon = (v: unknown): string =>
      v === null || typeof v !== 'object'
        ? JSON.stringify(v)
        : Array.isArray(v)
          ? `[${v.map(canon).join(',')}]`
          : `{${Object.keys(v)
              .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`)
              .join(',')}}`;
    const s = issued;
    const contentHash = createHash('sha256').update(canon(s.content)).digest('hex');
    expect(contentHash).toBe(s.contentHash);
    const { statementId, partnerId, period, position, digest, programVersion, commissionPlanVersion } = s;
    const message = 'channel-ledger/statement-signature/1\n' + canon({ statementId, partnerId, period, position, digest, programVersion, commissionPlanVersion, contentHash });
    const verifierKeyLine = (await t.request('GET', '/v1/audit/public-key', { key: KEYS.auditor })).body.verifierKey as string;
    const raw = Buffer.from(verifierKeyLine.split('+').slice(2).join('+'), 'base64').subarray(1);
    const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(message), key, Buffer.from(s.signature as string, 'base64'))).toBe(true);
  });

  it('refuses bad periods, unknown partners and other roles, appending nothing; partner keys read their own only', async () => {
    const head = await t.store.headPosition();
    for (const period of ['2026-Q5', '2026-13', '2026', 'Q1-2026']) {
      const r = await t.request('POST', '/v1/statements', { body: { statementId: 'ST-BAD', partnerId: 'P1', period }, key: KEYS.finance });
      expect([r.status, r.body.type]).toEqual([400, 'validation-failed']);
    }
    const unknown = await t.request('POST', '/v1/statements', { body: { statementId: 'ST-NOPE', partnerId: 'P-NOPE', period: '2026-Q1' }, key: KEYS.finance });
    expect([unknown.status, unknown.body.type]).toEqual([404, 'not-found']);
    for (const key of [KEYS.ops, KEYS.auditor, KEYS.p1]) expect((await t.request('POST', '/v1/statements', { body: { statementId: 'ST-X', partnerId: 'P1', period: '2026-Q1' }, key })).status).toBe(403);
    expect(await t.store.headPosition()).toBe(head);

    expect((await t.request('GET', '/v1/statements/ST-1', { key: KEYS.p1 })).status).toBe(200);
    expect((await t.request('GET', '/v1/statements/ST-1', { key: KEYS.p2 })).status).toBe(404);
    expect((await t.request('GET', '/v1/statements/ST-NONE', { key: KEYS.auditor })).status).toBe(404);
    const own = await t.request<{ items: Statement[] }>('GET', '/v1/statements', { key: KEYS.p1 });
    expect(own.body.items.map((s) => s.statementId)).toEqual(['ST-1']);
    expect((await t.request<{ items: Statement[] }>('GET', '/v1/statements', { key: KEYS.p2 })).body.items.every((s) => s.partnerId === 'P2')).toBe(true);
    expect((await t.request('GET', '/v1/statements?partnerId=P1', { key: KEYS.p2 })).status).toBe(403);
    const byPeriod = await t.request<{ items: Statement[] }>('GET', '/v1/statements?partnerId=P1&period=2026-Q1', { key: KEYS.auditor });
    expect(byPeriod.body.items.map((s) => s.statementId)).toEqual(['ST-1']);
    expect((await t.request<{ items: Statement[] }>('GET', '/v1/statements?period=2026-Q2', { key: KEYS.finance })).body.items).toEqual([]);
    expect((await t.request('POST', '/v1/audit/statements/verify', { body: issued, key: KEYS.finance })).status).toBe(403);
  });

  it('the same statement with its JSON edited fails verification: content, signature, digest each named', async () => {
    const edited = tampered(issued, (s) => ((s.content.revenue as { sourced: { netMinor: number } }).sourced.netMinor = 20_000_00));
    const v = await t.request('POST', '/v1/audit/statements/verify', { body: edited, key: KEYS.auditor });
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ ok: false, contentMatches: false, signatureValid: false, digestMatches: true });
    expect(v.body.differences).toEqual(expect.arrayContaining([{ path: 'content.revenue.sourced.netMinor', statement: 20_000_00, recomputed: 10_000_00 }]));

    // Content and its hash edited together: the signature still refuses it.
    const rehashed = tampered(edited, () => undefined);
    const { createHash } = await import('node:crypto');
    const { canonicalJson } = await import('#libs/event-store/hashing.js');
    rehashed.contentHash = createHash('sha256').update(canonicalJson(rehashed.content)).digest('hex');
    expect((await t.request('POST', '/v1/audit/statements/verify', { body: rehashed, key: KEYS.auditor })).body).toMatchObject({ ok: false, contentMatches: false, signatureValid: false });

    const otherRoot = tampered(issued, (s) => ((s.digest as { rootHash: string }).rootHash = '0'.repeat(64)));
    expect((await t.request('POST', '/v1/audit/statements/verify', { body: otherRoot, key: KEYS.auditor })).body).toMatchObject({ ok: false, contentMatches: true, digestMatches: false, signatureValid: false });
    const badSignature = tampered(issued, (s) => (s.signature = Buffer.alloc(64, 1).toString('base64')));
    expect((await t.request('POST', '/v1/audit/statements/verify', { body: badSignature, key: KEYS.auditor })).body).toMatchObject({ ok: false, contentMatches: true, digestMatches: true, signatureValid: false });
    const beyond = tampered(issued, (s) => (s.position = '999999'));
    expect((await t.request('POST', '/v1/audit/statements/verify', { body: beyond, key: KEYS.auditor })).body).toMatchObject({ ok: false, contentMatches: false, digestMatches: false });
    const noContent = await t.request('POST', '/v1/audit/statements/verify', { body: { ...issued, content: undefined }, key: KEYS.auditor });
    expect([noContent.status, noContent.body.type]).toEqual([400, 'validation-failed']);
  });

  it('a late reversal in the period: the restatement lists exactly the changed lines, the statement as issued still verifies', async () => {
    await ok('POST', '/v1/revenue-attributions/A1/reverse', { amountMinor: 2_500_00, reason: 'late refund', reversedAt: '2026-03-20' }, KEYS.finance);
    const head = await t.store.headPosition();
    const r = await t.request<Statement>('GET', '/v1/statements/ST-1', { key: KEYS.p1 });
    expect(r.status).toBe(200);
    expect(r.body.restatement).toEqual({
      asOfPosition: head.toString(),
      changes: [
        { path: 'revenue.sourced.netMinor', issued: 10_000_00, now: 7_500_00 },
        { path: 'revenue.sourced.reversedMinor', issued: 0, now: 2_500_00 },
      ],
    });
    // "As issued" is not overwritten: the same content, hash and signature.
    expect({ ...r.body, restatement: undefined }).toEqual({ ...issued, restatement: undefined });
    const v = await t.request('POST', '/v1/audit/statements/verify', { body: r.body, key: KEYS.auditor });
    expect(v.body).toEqual({ ok: true, contentMatches: true, digestMatches: true, signatureValid: true });

    // A statement issued now says what is known now.
    const later = await t.request<Statement>('POST', '/v1/statements', { body: { statementId: 'ST-2', partnerId: 'P1', period: '2026-03' }, key: KEYS.finance });
    expect(later.status).toBe(201);
    expect(later.body.content).toMatchObject({ period: '2026-03', revenue: { sourced: { attributedMinor: 10_000_00, reversedMinor: 2_500_00, netMinor: 7_500_00 } } });

    // For finance: CSV, one row per line, as issued and now.
    const csv = await t.request('GET', '/v1/statements/ST-1', { key: KEYS.finance, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split(/\r?\n/);
    expect(lines[0]).toBe('statementId,partnerId,period,position,path,issued,now');
    expect(lines).toContain(`ST-1,P1,2026-Q1,${issued.position as string},revenue.sourced.netMinor,1000000,750000`);
    expect(lines).toContain(`ST-1,P1,2026-Q1,${issued.position as string},tier.atEnd,Gold,Gold`);
  });

  it('verifies in the standalone verifier (signature and digest, no ledger code) and in the CLI (`ledger statement verify`)', async () => {
    const file = join(work, 'statement.json');
    const editedFile = join(work, 'edited.json');
    const keyFile = join(work, 'ledger.pub');
    writeFileSync(file, JSON.stringify(issued, null, 2));
    writeFileSync(editedFile, JSON.stringify(tampered(issued, (s) => ((s.content.deals as { won: number }).won = 7)), null, 2));
    writeFileSync(keyFile, (await t.request('GET', '/v1/audit/public-key', { key: KEYS.auditor })).body.verifierKey as string);

    const standalone = await run([VERIFIER, '--statement', file, '--key', keyFile, '--url', t.url, '--token', KEYS.auditor]);
    expect(standalone).toMatchObject({ code: 0 });
    expect(JSON.parse(standalone.stdout)).toMatchObject({ ok: true, signatureValid: true, digestMatches: true });
    const standaloneEdited = await run([VERIFIER, '--statement', editedFile, '--key', keyFile, '--url', t.url, '--token', KEYS.auditor]);
    expect(standaloneEdited).toMatchObject({ code: 1, stderr: expect.stringMatching(/does not hash to contentHash/) });
    expect((await run([VERIFIER, '--statement', file, '--key', keyFile])).code).toBe(2);

    const exportFile = join(work, 'log.ndjson');
    const exported = await fetch(`${t.url}/v1/audit/export`, { headers: { authorization: `Bearer ${KEYS.auditor}` } });
    writeFileSync(exportFile, await exported.text());
    expect(await run([VERIFIER, '--statement', file, '--key', keyFile, '--export', exportFile])).toMatchObject({ code: 0 });

    // The CLI reads the store itself: stop the service first, as for `ledger verify`.
    await t.close();
    closed = true;
    const env = { LEDGER_DATA_DIR: t.dataDir, LEDGER_STORE: 'sqlite' };
    const good = await run([CLI, 'statement', 'verify', file], env);
    expect(good).toMatchObject({ code: 0 });
    expect(JSON.parse(good.stdout)).toEqual({ ok: true, contentMatches: true, digestMatches: true, signatureValid: true });
    const bad = await run([CLI, 'statement', 'verify', editedFile], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, contentMatches: false, digestMatches: true, signatureValid: false, differences: expect.arrayContaining([{ path: 'content.deals.won', statement: 7, recomputed: 1 }]) });
    expect(bad.stderr).toMatch(/NOT VERIFIED/);
    expect((await run([CLI, 'statement', 'verify', keyFile], env)).code).toBe(2);
    expect((await run([CLI, 'statement', 'verify', join(work, 'missing.json')], env)).code).toBe(2);
    expect((await run([CLI, 'statement', 'verify', file, '--key', keyFile], env)).code).toBe(0);
  }, 60_000);
});
