import { KEYS, removeDir, startApp, type TestApp } from './support/app.js';
import { routeTable, type Route } from './support/routes.js';

/**
 * API.md, "Who may do what", as data: every route of the app × every principal. A route missing here fails
 * the test, so a new route cannot ship without someone deciding who may call it.
 *
 * - `allow`: the role passes authorization (a GET answers 200; a command with a body of one unknown member
 *   answers 400 validation-failed: guards run before validation, so the 400 proves the guard let it through
 *   and nothing is appended).
 * - `deny`: 403 `forbidden` (401 `unauthorized` without a key or with a wrong one).
 * - `own` (partner keys): allowed for its own partnerId only; another partner's resource is 403 or 404 and
 *   nothing of it appears in the answer.
 * - `hidden` (partner keys): 404 `not-found`, whatever is asked: the resource is not disclosed at all.
 * - `public`: anyone, without a key too.
 * `admin` may do everything ("admin | everything") and is checked on every route.
 */
type Access = 'allow' | 'deny' | 'own' | 'hidden';
interface Rule {
  readonly public?: true;
  readonly ops?: Access;
  readonly finance?: Access;
  readonly auditor?: Access;
  readonly subscriber?: Access;
  readonly partner?: Access;
}

const PUBLIC: Rule = { public: true };
// "channel-ops | all commands and all queries except /v1/audit/*"
const OPS_COMMAND: Rule = { ops: 'allow' };
// "auditor | GET anything, including /v1/audit/*" — and channel-ops all queries but audit.
const STAFF_QUERY: Rule = { ops: 'allow', auditor: 'allow' };
// "finance | ... attribution, MDF and tier queries; partner reads"
const FINANCE_QUERY: Rule = { ops: 'allow', finance: 'allow', auditor: 'allow' };
// "auditor | GET anything, including /v1/audit/*, and POST /v1/audit/verify"; channel-ops: "except /v1/audit/*"
const AUDIT: Rule = { auditor: 'allow' };

const WHO_MAY: Readonly<Record<string, Rule>> = {
  // "Only /health* and /docs* answer without a key"
  'GET /health': PUBLIC,
  'GET /health/ready': PUBLIC,
  'GET /docs/events': PUBLIC,
  // "/metrics needs an admin key"
  'GET /metrics': {},

  // Program. "finance | ... tier queries"; the program is not among a partner's reads.
  'PUT /v1/tier-program': OPS_COMMAND,
  'GET /v1/tier-program': FINANCE_QUERY,
  // Commissions (v2). "finance, admin; partners read their own": the plan is policy, not a partner's read.
  'PUT /v1/commission-plan': { finance: 'allow' },
  'GET /v1/commission-plan': FINANCE_QUERY,
  // "finance, admin; partners read their own": accruals and balances are finance's and the auditor's reads.
  'GET /v1/commissions': { finance: 'allow', auditor: 'allow', partner: 'own' },
  'GET /v1/commissions/balances': { finance: 'allow', auditor: 'allow', partner: 'own' },
  // Payout runs: finance acts; a partner key reads the runs with its own line (that line only).
  'POST /v1/payouts': { finance: 'allow' },
  'POST /v1/payouts/:id/approve': { finance: 'allow' },
  'POST /v1/payouts/:id/cancel': { finance: 'allow' },
  'POST /v1/payouts/:id/lines/:partnerId/paid': { finance: 'allow' },
  'GET /v1/payouts': { finance: 'allow', auditor: 'allow', partner: 'own' },
  'GET /v1/payouts/:id': { finance: 'allow', auditor: 'allow', partner: 'own' },
  // Statements (v2): finance and admin issue; staff queries read; a partner key reads its own only; auditors verify.
  'POST /v1/statements': { finance: 'allow' },
  'GET /v1/statements': { ...FINANCE_QUERY, partner: 'own' },
  'GET /v1/statements/:id': { ...FINANCE_QUERY, partner: 'own' },

  // Partners. "finance | ... partner reads"; "partner | read its own partner"
  'POST /v1/partners': OPS_COMMAND,
  'POST /v1/partners/:id/activate': OPS_COMMAND,
  'POST /v1/partners/:id/suspend': OPS_COMMAND,
  'POST /v1/partners/:id/reinstate': OPS_COMMAND,
  'POST /v1/partners/:id/terminate': OPS_COMMAND,
  'POST /v1/partners/:id/certifications': OPS_COMMAND,
  'GET /v1/partners': { ...FINANCE_QUERY, partner: 'own' },
  'GET /v1/partners/:id': { ...FINANCE_QUERY, partner: 'own' },
  // The waterfall is a read of the partner (its tier's discount): "partner reads", "tier queries", "its own partner".
  'GET /v1/partners/:id/price-waterfall': { ...FINANCE_QUERY, partner: 'own' },
  'POST /v1/tier-evaluations': OPS_COMMAND,
  // Tier program v2: revocations, overrides and the catalog are channel ops' commands; the catalog is a tier query.
  'POST /v1/partners/:id/certifications/:sellerId/:certification/revoke': OPS_COMMAND,
  'POST /v1/partners/:id/tier-override': OPS_COMMAND,
  'POST /v1/partners/:id/tier-override/end': OPS_COMMAND,
  'PUT /v1/certifications/:name': OPS_COMMAND,
  'GET /v1/certifications': FINANCE_QUERY,

  // Deals. "partner | register deals ... for its own partnerId; read its own ... deals"; finance has no deal reads.
  'POST /v1/deals': { ops: 'allow', partner: 'own' },
  'POST /v1/deals/:id/approve': OPS_COMMAND,
  'POST /v1/deals/:id/reject': OPS_COMMAND,
  'POST /v1/deals/:id/extend': OPS_COMMAND,
  'POST /v1/deals/:id/won': OPS_COMMAND,
  'POST /v1/deals/:id/lost': OPS_COMMAND,
  'POST /v1/deal-expirations': OPS_COMMAND,
  'GET /v1/deals': { ...STAFF_QUERY, partner: 'own' },
  'GET /v1/deals/:id': { ...STAFF_QUERY, partner: 'own' },
  // Conflicts span partners: not among a partner's reads.
  'GET /v1/registration-conflicts': STAFF_QUERY,
  // v2 customer accounts: channel ops decide them; "GET ... (partner keys: 404)".
  'POST /v1/customer-accounts/:customerKey/aliases': OPS_COMMAND,
  'POST /v1/customer-accounts/:customerKey/direct': OPS_COMMAND,
  'POST /v1/customer-accounts/:customerKey/direct/release': OPS_COMMAND,
  'GET /v1/customer-accounts/:customerKey': { ...STAFF_QUERY, partner: 'hidden' },

  // MDF. "partner | ... request MDF / submit claims for its own partnerId; read its own ... MDF funds"
  'POST /v1/mdf/allocations': OPS_COMMAND,
  'POST /v1/mdf/requests': { ops: 'allow', partner: 'own' },
  'POST /v1/mdf/requests/:id/approve': OPS_COMMAND,
  'POST /v1/mdf/requests/:id/reject': OPS_COMMAND,
  'POST /v1/mdf/requests/:id/claims': { ops: 'allow', partner: 'own' },
  'POST /v1/mdf/claims/:id/approve': OPS_COMMAND,
  'POST /v1/mdf/claims/:id/reject': OPS_COMMAND,
  'POST /v1/mdf/claims/:id/pay': OPS_COMMAND,
  'GET /v1/mdf/funds': { ...FINANCE_QUERY, partner: 'own' },
  // v2: release runs are channel ops'; "Finance may set a program budget per period" (and channel-ops: all commands).
  'POST /v1/mdf/releases': OPS_COMMAND,
  'PUT /v1/mdf/budgets/:period': { ops: 'allow', finance: 'allow' },
  'GET /v1/mdf/budgets': FINANCE_QUERY,
  'GET /v1/mdf/requests/:id': { ...FINANCE_QUERY, partner: 'own' },

  // Revenue attribution. "finance | revenue attribution commands; attribution ... queries"; "partner | read its own ... attribution"
  'POST /v1/revenue-attributions': { ops: 'allow', finance: 'allow' },
  'POST /v1/revenue-attributions/:id/reverse': { ops: 'allow', finance: 'allow' },
  'GET /v1/revenue-attributions/:id': { ...FINANCE_QUERY, partner: 'own' },
  'GET /v1/attribution': { ...FINANCE_QUERY, partner: 'own' },
  // v2 exchange rates: "(finance, admin)" publish; the rates are a finance query.
  'POST /v1/exchange-rates': { finance: 'allow' },
  'GET /v1/exchange-rates': FINANCE_QUERY,
  // "partner | read its own ... standing"
  'GET /v1/tier-standings': { ...FINANCE_QUERY, partner: 'own' },
  'GET /v1/tier-standings/:partnerId': { ...FINANCE_QUERY, partner: 'own' },

  // Audit: admin and auditor only.
  'GET /v1/audit/events': AUDIT,
  'GET /v1/audit/streams/:streamId': AUDIT,
  'GET /v1/audit/digest': AUDIT,
  'GET /v1/audit/proofs/inclusion': AUDIT,
  'GET /v1/audit/proofs/consistency': AUDIT,
  'GET /v1/audit/public-key': AUDIT,
  'POST /v1/audit/verify': AUDIT,
  'POST /v1/audit/statements/verify': AUDIT,
  'GET /v1/audit/replay': AUDIT,
  'GET /v1/audit/export': AUDIT,

  // "subscriber | /v1/events/stream only"; "auditor | GET anything"; "channel-ops | all commands and all
  // queries except /v1/audit/*" (issue #17: channel-ops was refused here, against API.md).
  'GET /v1/events/stream': { ops: 'allow', auditor: 'allow', subscriber: 'allow' },
};

/** Another partner, whose every id and text carries the marker: no answer to P1 may contain it. */
const MARKER = 'ZQXLEAK';
const OTHER = `PX-${MARKER}`;
const OWN = 'P1';

/**
 * The URL each route is probed with: `staff` for staff keys and as the other partner's resource, `own` for
 * the P1 key's own. Routes without parameters need no entry.
 */
const PROBES: Readonly<Record<string, { readonly staff: string; readonly own?: string }>> = {
  'GET /v1/partners/:id': { staff: `/v1/partners/${OTHER}`, own: `/v1/partners/${OWN}` },
  'GET /v1/partners/:id/price-waterfall': {
    staff: `/v1/partners/${OTHER}/price-waterfall?listPriceMinor=100000&currency=USD&dealId=D-${MARKER}-1`,
    own: `/v1/partners/${OWN}/price-waterfall?listPriceMinor=100000&currency=USD`,
  },
  'GET /v1/deals': { staff: `/v1/deals?partnerId=${OTHER}`, own: '/v1/deals' },
  'GET /v1/deals/:id': { staff: `/v1/deals/D-${MARKER}-1`, own: '/v1/deals/D-P1-CONFLICT' },
  'GET /v1/customer-accounts/:customerKey': { staff: '/v1/customer-accounts/shared-customer.com' },
  'POST /v1/customer-accounts/:customerKey/aliases': { staff: '/v1/customer-accounts/shared-customer.com/aliases' },
  'POST /v1/customer-accounts/:customerKey/direct': { staff: '/v1/customer-accounts/shared-customer.com/direct' },
  'POST /v1/customer-accounts/:customerKey/direct/release': { staff: '/v1/customer-accounts/shared-customer.com/direct/release' },
  'GET /v1/mdf/funds': { staff: `/v1/mdf/funds?partnerId=${OTHER}`, own: '/v1/mdf/funds' },
  'GET /v1/commissions': { staff: `/v1/commissions?partnerId=${OTHER}`, own: '/v1/commissions' },
  'GET /v1/commissions/balances': { staff: `/v1/commissions/balances?partnerId=${OTHER}`, own: '/v1/commissions/balances' },
  'GET /v1/payouts': { staff: `/v1/payouts?partnerId=${OTHER}`, own: '/v1/payouts' },
  'GET /v1/payouts/:id': { staff: `/v1/payouts/PO-${MARKER}-ONLY`, own: '/v1/payouts/PO-SHARED' },
  'POST /v1/payouts/:id/approve': { staff: '/v1/payouts/PO-SHARED/approve' },
  'POST /v1/payouts/:id/cancel': { staff: '/v1/payouts/PO-SHARED/cancel' },
  'POST /v1/payouts/:id/lines/:partnerId/paid': { staff: `/v1/payouts/PO-SHARED/lines/${OWN}/paid` },
  'GET /v1/statements': { staff: `/v1/statements?partnerId=${OTHER}`, own: '/v1/statements' },
  'GET /v1/statements/:id': { staff: `/v1/statements/ST-${MARKER}`, own: '/v1/statements/ST-P1' },
  'GET /v1/mdf/requests/:id': { staff: `/v1/mdf/requests/REQ-${MARKER}`, own: '/v1/mdf/requests/REQ-P1' },
  'PUT /v1/mdf/budgets/:period': { staff: '/v1/mdf/budgets/2031-Q4' },
  'GET /v1/revenue-attributions/:id': { staff: `/v1/revenue-attributions/ATT-${MARKER}-ONLY`, own: '/v1/revenue-attributions/ATT-SHARED' },
  'GET /v1/attribution': { staff: `/v1/attribution?partnerId=${OTHER}`, own: '/v1/attribution' },
  'GET /v1/tier-standings': { staff: `/v1/tier-standings?partnerId=${OTHER}`, own: '/v1/tier-standings' },
  'GET /v1/tier-standings/:partnerId': { staff: `/v1/tier-standings/${OTHER}`, own: `/v1/tier-standings/${OWN}` },
  'GET /v1/audit/streams/:streamId': { staff: `/v1/audit/streams/partner-${OTHER}` },
  'GET /v1/audit/replay': { staff: '/v1/audit/replay?projection=partners&asOf=2100-01-01' },
  'GET /v1/audit/proofs/inclusion': { staff: '/v1/audit/proofs/inclusion?position=1' },
  'GET /v1/audit/proofs/consistency': { staff: '/v1/audit/proofs/consistency?from=1' },
  'POST /v1/partners/:id/activate': { staff: `/v1/partners/${OTHER}/activate` },
  'POST /v1/partners/:id/suspend': { staff: `/v1/partners/${OTHER}/suspend` },
  'POST /v1/partners/:id/reinstate': { staff: `/v1/partners/${OTHER}/reinstate` },
  'POST /v1/partners/:id/terminate': { staff: `/v1/partners/${OTHER}/terminate` },
  'POST /v1/partners/:id/certifications': { staff: `/v1/partners/${OTHER}/certifications` },
  'POST /v1/partners/:id/certifications/:sellerId/:certification/revoke': { staff: `/v1/partners/${OTHER}/certifications/S-${MARKER}/Sales/revoke` },
  'POST /v1/partners/:id/tier-override': { staff: `/v1/partners/${OTHER}/tier-override` },
  'POST /v1/partners/:id/tier-override/end': { staff: `/v1/partners/${OTHER}/tier-override/end` },
  'PUT /v1/certifications/:name': { staff: '/v1/certifications/Sales' },
  'POST /v1/deals/:id/approve': { staff: `/v1/deals/D-${MARKER}-1/approve` },
  'POST /v1/deals/:id/reject': { staff: `/v1/deals/D-${MARKER}-1/reject` },
  'POST /v1/deals/:id/extend': { staff: `/v1/deals/D-${MARKER}-1/extend` },
  'POST /v1/deals/:id/won': { staff: `/v1/deals/D-${MARKER}-1/won` },
  'POST /v1/deals/:id/lost': { staff: `/v1/deals/D-${MARKER}-1/lost` },
  'POST /v1/mdf/requests/:id/approve': { staff: `/v1/mdf/requests/REQ-${MARKER}/approve` },
  'POST /v1/mdf/requests/:id/reject': { staff: `/v1/mdf/requests/REQ-${MARKER}/reject` },
  'POST /v1/mdf/requests/:id/claims': { staff: `/v1/mdf/requests/REQ-${MARKER}/claims`, own: '/v1/mdf/requests/REQ-P1/claims' },
  'POST /v1/mdf/claims/:id/approve': { staff: `/v1/mdf/claims/CLM-${MARKER}/approve` },
  'POST /v1/mdf/claims/:id/reject': { staff: `/v1/mdf/claims/CLM-${MARKER}/reject` },
  'POST /v1/mdf/claims/:id/pay': { staff: `/v1/mdf/claims/CLM-${MARKER}/pay` },
  'POST /v1/revenue-attributions/:id/reverse': { staff: `/v1/revenue-attributions/ATT-${MARKER}-ONLY/reverse` },
};

/** A body no command accepts (an unknown member is a 400), so an allowed command is refused by validation, after the guards. */
const PROBE_BODY = { __authzProbe: 1 };

const PRINCIPALS = [
  { name: 'admin', key: KEYS.admin },
  { name: 'channel-ops', key: KEYS.ops, column: 'ops' },
  { name: 'finance', key: KEYS.finance, column: 'finance' },
  { name: 'auditor', key: KEYS.auditor, column: 'auditor' },
  { name: 'subscriber', key: KEYS.subscriber, column: 'subscriber' },
  { name: 'partner P1', key: KEYS.p1, column: 'partner' },
  { name: 'no key', key: null },
  { name: 'wrong key', key: 'wrong-key-0123456789abcdefghij' },
] as const;

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

interface Answer {
  status: number;
  type?: string;
  text: string;
  body: unknown;
  contentType: string;
}

describe('authorization matrix: every route × every role, from API.md', () => {
  let t: TestApp;
  let routes: Route[];

  /** One request; an event stream is cut off once its headers arrived. */
  async function call(method: string, path: string, key: string | null, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const abort = new AbortController();
    const res = await fetch(`${t.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: abort.signal });
    const contentType = res.headers.get('content-type') ?? '';
    let text = '';
    if (contentType.startsWith('text/event-stream')) abort.abort();
    else text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const type = typeof parsed === 'object' && parsed !== null ? (parsed as { type?: unknown }).type : undefined;
    return { status: res.status, text, body: parsed, contentType, ...(typeof type === 'string' ? { type } : {}) };
  }

  async function ok(method: string, path: string, body?: unknown, key: string = KEYS.ops): Promise<Record<string, unknown>> {
    const r = await t.request(method, path, { body, key });
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    return r.body;
  }

  /** What P1 may not see: the marker anywhere in an answer, once the ids the request itself named are taken out. */
  function leak(path: string, answer: Answer): string | undefined {
    let text = answer.text;
    const named = decodeURIComponent(path)
      .split(/[/?&=]/)
      .filter((s) => s.includes(MARKER))
      .sort((a, b) => b.length - a.length);
    for (const s of named) text = text.split(s).join('');
    const at = text.indexOf(MARKER);
    return at < 0 ? undefined : text.slice(Math.max(0, at - 80), at + 80);
  }

  beforeAll(async () => {
    t = await startApp();
    routes = routeTable(t.app);
    // MDF needs an eligible tier: make the lowest tier eligible.
    await ok('PUT', '/v1/tier-program', {
      reportingCurrency: 'USD',
      lookbackDays: 365,
      downgradeGraceDays: 90,
      protectionDays: 90,
      maxExtensionDays: 60,
      dealRegistrationDiscountBps: 1000,
      tiers: [{ name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: true }],
    });
    await ok('POST', '/v1/partners', { partnerId: OWN, name: 'Own partner', type: 'reseller', domain: 'own-partner.com' });
    await ok('POST', `/v1/partners/${OWN}/activate`, {});
    await ok('POST', '/v1/partners', { partnerId: OTHER, name: `${MARKER} Partner Name`, type: 'msp', domain: `${MARKER.toLowerCase()}-domain.com`, country: 'DE' });
    await ok('POST', `/v1/partners/${OTHER}/activate`, {});
    await ok('POST', `/v1/partners/${OTHER}/certifications`, { sellerId: `S-${MARKER}`, certification: `${MARKER} certification`, earnedAt: '2026-01-01' });

    const deal = (dealId: string, partnerId: string, customer: string, products: string[], name: string) => ({
      dealId,
      partnerId,
      customer: { name, domain: customer },
      products,
      estimatedValue: usd(4_200_00),
      expectedCloseDate: '2026-09-30',
    });
    await ok('POST', '/v1/deals', deal(`D-${MARKER}-1`, OTHER, `${MARKER.toLowerCase()}-customer.com`, [`${MARKER}-PROD`], `${MARKER} Customer`), KEYS.ops);
    await ok('POST', `/v1/deals/D-${MARKER}-1/approve`, {});
    await ok('POST', '/v1/deals', deal('D-P1-OWN', OWN, 'own-customer.com', ['PROD1'], 'Own customer'), KEYS.p1);
    // A conflict between the two partners, won by the other one: P1's view must name none of its deals.
    await ok('POST', '/v1/deals', deal(`D-${MARKER}-2`, OTHER, 'shared-customer.com', ['SHARED'], `${MARKER} shared`), KEYS.ops);
    const conflicted = await ok('POST', '/v1/deals', deal('D-P1-CONFLICT', OWN, 'shared-customer.com', ['SHARED'], 'Shared customer'), KEYS.p1);
    expect(conflicted).toMatchObject({ status: 'conflicted', conflictsWith: [], conflictIds: [] });
    await ok('POST', `/v1/deals/D-${MARKER}-2/approve`, {});

    for (const partnerId of [OWN, OTHER]) await ok('POST', '/v1/mdf/allocations', { partnerId, period: '2026-Q1', amount: usd(10_000_00) });
    await ok('POST', '/v1/mdf/requests', { requestId: `REQ-${MARKER}`, partnerId: OTHER, period: '2026-Q1', activity: `${MARKER} activity`, amount: usd(1_000_00) });
    await ok('POST', `/v1/mdf/requests/REQ-${MARKER}/approve`, {});
    await ok('POST', `/v1/mdf/requests/REQ-${MARKER}/claims`, { claimId: `CLM-${MARKER}`, amount: usd(500_00), proofOfPerformance: [`https://${MARKER}.example/proof`] });
    await ok('POST', '/v1/mdf/requests', { requestId: 'REQ-P1', partnerId: OWN, period: '2026-Q1', activity: 'Own webinar', amount: usd(1_000_00) }, KEYS.p1);
    await ok('POST', '/v1/mdf/requests/REQ-P1/approve', {});

    // v2: commissions accrue on the attributions below (each partner then has its own accruals and balance).
    await ok('PUT', '/v1/commission-plan', { holdDays: 30, rules: [{ creditType: 'sourced', rateBps: 1000 }, { creditType: 'influenced', rateBps: 500 }] }, KEYS.finance);
    // v2: revenue is attributed to won deals only.
    // Closed after it was registered (now, on the real clock): a deal closed before registration is refused.
    await ok('POST', `/v1/deals/D-${MARKER}-1/won`, { amount: usd(5_000_00), closedAt: new Date().toISOString() });
    await ok('POST', '/v1/revenue-attributions', {
      attributionId: `ATT-${MARKER}-ONLY`,
      dealId: `D-${MARKER}-1`,
      amount: usd(3_000_00),
      recognizedAt: '2026-02-01',
      credits: [{ partnerId: OTHER, type: 'sourced', shareBps: 10_000 }],
    }, KEYS.finance);
    // Shared: the other partner sourced it on its deal, P1 influenced it.
    await ok('POST', '/v1/revenue-attributions', {
      attributionId: 'ATT-SHARED',
      dealId: `D-${MARKER}-1`,
      amount: usd(2_000_00),
      recognizedAt: '2026-02-02',
      credits: [
        { partnerId: OTHER, type: 'sourced', shareBps: 10_000 },
        { partnerId: OWN, type: 'influenced', shareBps: 10_000 },
      ],
    }, KEYS.finance);
    await ok('POST', '/v1/revenue-attributions/ATT-SHARED/reverse', { amountMinor: 500_00, reason: 'partial refund', reversedAt: '2026-02-10' }, KEYS.finance);
    // Payout runs: one paying only the other partner (payable from 2026-03-03), then one with both partners' lines.
    await ok('POST', '/v1/payouts', { payoutId: `PO-${MARKER}-ONLY`, asOf: '2026-03-03T12:00:00Z' }, KEYS.finance);
    await ok('POST', `/v1/payouts/PO-${MARKER}-ONLY/approve`, {}, KEYS.finance);
    const shared = await ok('POST', '/v1/payouts', { payoutId: 'PO-SHARED', asOf: '2026-03-05' }, KEYS.finance);
    expect((shared.run as { lines: { partnerId: string }[] }).lines.map((l) => l.partnerId).sort()).toEqual([OTHER, OWN].sort());
    await ok('POST', '/v1/tier-evaluations', { asOf: '2026-03-01' });
    // A statement of each partner: P1 reads its own, never the other's.
    await ok('POST', '/v1/statements', { statementId: 'ST-P1', partnerId: OWN, period: '2026-Q1' }, KEYS.finance);
    await ok('POST', '/v1/statements', { statementId: `ST-${MARKER}`, partnerId: OTHER, period: '2026-Q1' }, KEYS.finance);
    // Every read model has caught up before the matrix reads them.
    expect((await t.request('GET', `/v1/partners?minPosition=${await t.store.headPosition()}`)).status).toBe(200);
  });

  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('every route of the app has a rule, and every rule a route', () => {
    const keys = routes.map((r) => r.key);
    expect(keys.filter((k) => !(k in WHO_MAY))).toEqual([]);
    expect(Object.keys(WHO_MAY).filter((k) => !keys.includes(k))).toEqual([]);
    // Parameterised routes need a probe URL; the table of them cannot go stale either.
    expect(routes.filter((r) => r.path.includes(':') && !(r.key in PROBES)).map((r) => r.key)).toEqual([]);
    expect(Object.keys(PROBES).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('answers every cell as the table says, and refusals append nothing', async () => {
    const head = await t.store.headPosition();
    const failures: string[] = [];
    let cells = 0;
    for (const route of routes) {
      const rule = WHO_MAY[route.key]!;
      const command = route.method !== 'GET';
      const probe = PROBES[route.key];
      for (const p of PRINCIPALS) {
        cells += 1;
        const path = p.name === 'partner P1' && probe?.own !== undefined ? probe.own : (probe?.staff ?? route.path);
        const answer = await call(route.method, path, p.key, command ? PROBE_BODY : undefined);
        const cell = `${route.key} as ${p.name} (${path})`;
        let expected: 'allowed' | 401 | 403 | 404;
        if (rule.public) expected = 'allowed';
        else if (!('column' in p)) expected = p.name === 'admin' ? 'allowed' : 401;
        else {
          const access = rule[p.column] ?? 'deny';
          expected = access === 'deny' ? 403 : access === 'hidden' ? 404 : 'allowed';
        }

        if (expected === 'allowed') {
          const want = command ? 400 : 200;
          if (answer.status !== want || (command && answer.type !== 'validation-failed')) failures.push(`${cell}: expected ${want}, got ${answer.status} ${answer.text.slice(0, 200)}`);
        } else if (answer.status !== expected || answer.type !== (expected === 401 ? 'unauthorized' : expected === 404 ? 'not-found' : 'forbidden')) {
          failures.push(`${cell}: expected ${expected}, got ${answer.status} ${answer.text.slice(0, 200)}`);
        }
        if (answer.status >= 400 && !answer.contentType.startsWith('application/problem+json')) failures.push(`${cell}: a ${answer.status} that is not application/problem+json`);
        if (p.name === 'partner P1' || p.key === null || p.name === 'wrong key') {
          const leaked = leak(path, answer);
          if (leaked !== undefined) failures.push(`${cell}: the other partner's data in the answer: …${leaked}…`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await t.store.headPosition()).toBe(head);
    process.stdout.write(`authz matrix: ${routes.length} routes × ${PRINCIPALS.length} principals = ${cells} cells checked\n`);
  });

  it("a partner key reaches another partner's resources nowhere, and sees only its own in lists", async () => {
    const failures: string[] = [];
    let checks = 0;
    const expectRefused = async (method: string, path: string, body?: unknown) => {
      checks += 1;
      const head = await t.store.headPosition();
      const answer = await call(method, path, KEYS.p1, body);
      if (answer.status !== 403 && answer.status !== 404) failures.push(`${method} ${path}: expected 403/404, got ${answer.status} ${answer.text.slice(0, 200)}`);
      const leaked = leak(path, answer);
      if (leaked !== undefined) failures.push(`${method} ${path}: leaks …${leaked}…`);
      if ((await t.store.headPosition()) !== head) failures.push(`${method} ${path}: appended to the log`);
    };
    const expectOwnOnly = async (path: string) => {
      checks += 1;
      const answer = await call('GET', path, KEYS.p1);
      const items = (answer.body as { items?: { partnerId?: string }[] } | undefined)?.items;
      if (answer.status !== 200 || !Array.isArray(items) || items.length === 0) failures.push(`GET ${path}: expected a non-empty list, got ${answer.status} ${answer.text.slice(0, 200)}`);
      else if (items.some((i) => i.partnerId !== OWN)) failures.push(`GET ${path}: lists another partner's items`);
      const leaked = leak(path, answer);
      if (leaked !== undefined) failures.push(`GET ${path}: leaks …${leaked}…`);
    };

    // Reads of the other partner's resources, by id.
    for (const route of routes.filter((r) => WHO_MAY[r.key]!.partner === 'own' && r.method === 'GET')) {
      const probe = PROBES[route.key];
      if (probe !== undefined) await expectRefused('GET', probe.staff);
    }
    // Its own, whole lists: nothing of the other partner (also not named in a deal's conflicts or as its winner).
    for (const path of ['/v1/partners', '/v1/deals', '/v1/mdf/funds', '/v1/attribution', '/v1/tier-standings', '/v1/commissions', '/v1/commissions/balances', '/v1/statements']) await expectOwnOnly(path);
    // Its own price waterfall naming the other partner's approved deal: no deal-registration layer, and the
    // same answer as for a deal that does not exist.
    checks += 1;
    const waterfall = await call('GET', `/v1/partners/${OWN}/price-waterfall?listPriceMinor=100000&currency=USD&dealId=D-${MARKER}-1`, KEYS.p1);
    const noDeal = await call('GET', `/v1/partners/${OWN}/price-waterfall?listPriceMinor=100000&currency=USD&dealId=D-NOPE`, KEYS.p1);
    expect(waterfall.status).toBe(200);
    expect(waterfall.body).toEqual(noDeal.body);
    checks += 1;
    const shared = await call('GET', '/v1/revenue-attributions/ATT-SHARED', KEYS.p1);
    expect(shared.status).toBe(200);
    expect(shared.body).toMatchObject({ credits: [{ partnerId: OWN, type: 'influenced', shareBps: 10_000 }], allocations: [{ partnerId: OWN }] });
    expect(shared.body).not.toHaveProperty('dealId');
    checks += 1;
    const lost = await call('GET', '/v1/deals/D-P1-CONFLICT', KEYS.p1);
    expect(lost.body).toMatchObject({ status: 'rejected', reason: 'conflict-lost', conflictsWith: [] });
    expect(lost.body).not.toHaveProperty('winnerDealId');

    // Commands naming the other partner: refused, nothing appended.
    await expectRefused('POST', '/v1/deals', {
      dealId: 'D-P1-FOR-OTHER',
      partnerId: OTHER,
      customer: { name: 'Someone', domain: 'someone-else.com' },
      products: ['X'],
      estimatedValue: usd(100),
      expectedCloseDate: '2026-10-01',
    });
    await expectRefused('POST', '/v1/mdf/requests', { requestId: 'REQ-P1-FOR-OTHER', partnerId: OTHER, period: '2026-Q1', activity: 'x', amount: usd(100) });
    await expectRefused('POST', `/v1/mdf/requests/REQ-${MARKER}/claims`, { claimId: 'CLM-P1-ON-OTHER', amount: usd(100), proofOfPerformance: ['https://p1.example/proof'] });

    // And its own commands work: the scope is "its own", not "nothing".
    checks += 1;
    const claim = await call('POST', '/v1/mdf/requests/REQ-P1/claims', KEYS.p1, { claimId: 'CLM-P1', amount: usd(100_00), proofOfPerformance: ['https://p1.example/proof'] });
    expect(claim.status).toBe(201);
    expect(leak('', claim)).toBeUndefined();

    expect(failures).toEqual([]);
    process.stdout.write(`authz matrix: ${checks} cross-partner checks for partner ${OWN} against ${OTHER}\n`);
  });
});
