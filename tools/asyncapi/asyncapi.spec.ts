import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { pathToFileURL } from 'node:url';
import type { AttributionEvent, DealRevenueReserved } from '#events/attribution.js';
import type { CommissionEvent, CommissionPlanEvent, PayoutEvent } from '#events/commissions.js';
import type { ExchangeRateEvent } from '#events/exchange-rates.js';
import type { DealEvent, DealIdClaimed, DealSlotTaken } from '#events/deals.js';
import type { MdfBudgetEvent, MdfEvent, MdfIdReservation } from '#events/mdf.js';
import type { CertificationCatalogEvent, PartnerDomainEvent, PartnerEvent, SellerClaimEvent } from '#events/partners.js';
import type { ProgramEvent } from '#events/program.js';
import type { StatementEvent } from '#events/statements.js';
import { ASYNCAPI_FILE, renderAsyncApiDocument, repositoryRoot } from './generate.js';

/**
 * The AsyncAPI document against the event unions, so they cannot drift apart:
 * 1. every type of every `*_TYPES` list of event names in `events/*.ts` has a message, and every message a
 *    list entry (found by importing the modules: a new capability file is covered without editing this test);
 * 2. the committed `events/asyncapi.json` is exactly what `npm run asyncapi` generates from the types now;
 * 3. a sample of every event type, type-checked against its union below, validates against its message's
 *    payload schema, and the schemas are not vacuous (dropping a required field or adding an unknown one fails).
 */

// ajv is CommonJS: under native ESM its default export is `module.exports`.
type AjvClass = typeof AjvModule.default;
const Ajv = ((AjvModule as unknown as { default?: AjvClass }).default ?? AjvModule) as AjvClass;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default;

const root = repositoryRoot();
const documentText = readFileSync(join(root, ASYNCAPI_FILE), 'utf8');
const doc = JSON.parse(documentText) as {
  asyncapi: string;
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: string; channel: { $ref: string }; messages: { $ref: string }[] }>;
  components: { messages: Record<string, { name: string; payload: { required: string[] } }>; schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
};

/** Exported string lists of event type names (PascalCase entries), e.g. `PARTNER_EVENT_TYPES`, `MDF_ID_RESERVATION_TYPES`. */
async function eventTypeLists(): Promise<Map<string, readonly string[]>> {
  const lists = new Map<string, readonly string[]>();
  const files = readdirSync(join(root, 'events')).filter((f) => f.endsWith('.ts') && !f.includes('.spec.') && !f.startsWith('asyncapi') && f !== 'envelope.ts');
  for (const file of files.sort()) {
    const mod = (await import(pathToFileURL(join(root, 'events', file)).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      if (!/_TYPES$/.test(name) || !Array.isArray(value) || value.length === 0) continue;
      if (value.every((v) => typeof v === 'string' && /^[A-Z][A-Za-z0-9]+$/.test(v))) lists.set(`events/${file}: ${name}`, value as string[]);
    }
  }
  return lists;
}

// Extend with each capability's unions as they land; the typecheck then demands a sample per new type.
type Documented =
  | PartnerEvent
  | PartnerDomainEvent
  | CertificationCatalogEvent
  | SellerClaimEvent
  | ProgramEvent
  | DealEvent
  | DealIdClaimed
  | DealSlotTaken
  | MdfEvent
  | MdfIdReservation
  | MdfBudgetEvent
  | AttributionEvent
  | DealRevenueReserved
  | ExchangeRateEvent
  | CommissionPlanEvent
  | CommissionEvent
  | PayoutEvent
  | StatementEvent;
type Samples = { readonly [T in Documented['type']]: Extract<Documented, { type: T }>['data'] };

const at = '2026-03-02T09:00:00.000Z';
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
const fund = { partnerId: 'P-1', period: '2026-Q1' };
const deal = { dealId: 'D-1', partnerId: 'P-1', customerKey: 'acme.co.uk' };

const SAMPLES: Samples = {
  PartnerEnrolled: { partnerId: 'P-1', name: 'Northwind', type: 'reseller', domain: 'northwind.co.uk', country: 'GB', tier: 'Registered', programVersion: 0, enrolledAt: at },
  PartnerActivated: { partnerId: 'P-1', activatedAt: at },
  PartnerSuspended: { partnerId: 'P-1', reason: 'late payments', suspendedAt: at },
  PartnerReinstated: { partnerId: 'P-1', reason: 'paid', reinstatedAt: at },
  PartnerTerminated: { partnerId: 'P-1', reason: 'left', terminatedAt: at },
  SellerCertified: { partnerId: 'P-1', sellerId: 's-1', certification: 'Architect', earnedAt: at, expiresAt: '2027-03-02T00:00:00.000Z' },
  PartnerTierChanged: { partnerId: 'P-1', from: 'Registered', to: 'Silver', kind: 'promotion', asOf: at, programVersion: 1 },
  TierDowngradeScheduled: { partnerId: 'P-1', from: 'Gold', to: 'Silver', effectiveAt: '2026-06-01T00:00:00.000Z', asOf: at, programVersion: 1 },
  TierDowngradeCancelled: { partnerId: 'P-1', tier: 'Gold', asOf: at },
  PartnerDomainClaimed: { domain: 'northwind.co.uk', partnerId: 'P-1' },
  SellerCertificationRevoked: { partnerId: 'P-1', sellerId: 'S-1', certification: 'Sales Accreditation', reason: 'exam fraud', revokedAt: at },
  PartnerTierOverridden: { partnerId: 'P-1', tier: 'Gold', from: 'Silver', reason: 'strategic launch partner', until: '2026-12-31T00:00:00.000Z', overriddenAt: at, programVersion: 2 },
  PartnerTierOverrideEnded: { partnerId: 'P-1', tier: 'Gold', restoredTier: 'Silver', reason: 'launch done', endedAt: at },
  PartnerTierQualificationRecorded: { partnerId: 'P-1', tier: 'Gold', qualifyingTier: 'Silver', until: '2026-12-31T00:00:00.000Z', asOf: at, programVersion: 2 },
  CertificationDefined: { name: 'Sales Accreditation', title: 'Sales Accreditation', validityDays: 365, definedAt: at },
  SellerClaimed: { sellerId: 'S-1', partnerId: 'P-1' },
  TierProgramDefined: {
    version: 1,
    reportingCurrency: 'USD',
    lookbackDays: 365,
    downgradeGraceDays: 90,
    protectionDays: 90,
    maxExtensionDays: 60,
    dealRegistrationDiscountBps: 1000,
    tiers: [{ name: 'Registered', rank: 0, minSourcedRevenueMinor: 0, minCertifiedSellers: 0, minWonDeals: 0, discountBps: 1000, mdfEligible: false }],
    definedAt: at,
  },
  DealRegistered: {
    ...deal,
    customer: { name: 'Acme', domain: 'https://eu.acme.co.uk', country: 'GB' },
    products: ['core'],
    estimatedValue: usd(5_000_000),
    expectedCloseDate: '2026-06-30T00:00:00.000Z',
    registeredAt: at,
    status: 'conflicted',
    conflictsWith: ['D-0'],
    conflicts: [{ conflictId: 'C-1', opened: true, addedDealIds: ['D-0', 'D-1'], products: ['core'] }],
  },
  DealRegistrationApproved: {
    ...deal,
    products: ['core'],
    approvedAt: at,
    protectedUntil: '2026-05-31T09:00:00.000Z',
    protectionDays: 90,
    programVersion: 1,
    rejectedDealIds: ['D-0'],
    resolvedConflicts: [{ conflictId: 'C-1', winnerDealId: 'D-1' }],
  },
  DealRegistrationRejected: { ...deal, reason: 'conflict-lost', winnerDealId: 'D-2', rejectedAt: at, resolvedConflicts: [{ conflictId: 'C-1' }] },
  DealRegistrationExtended: { ...deal, days: 30, previousProtectedUntil: '2026-05-31T09:00:00.000Z', protectedUntil: '2026-06-30T09:00:00.000Z', maxExtensionDays: 60, programVersion: 1, extendedAt: at },
  DealRegistrationExpired: { ...deal, products: ['core'], protectedUntil: '2026-05-31T09:00:00.000Z', asOf: '2026-06-01T00:00:00.000Z', expiredAt: at, resolvedConflicts: [] },
  DealWon: { ...deal, products: ['core'], amount: usd(4_800_000), closedAt: '2026-05-01T00:00:00.000Z', protectedUntil: '2026-05-31T09:00:00.000Z', wonAt: at, resolvedConflicts: [] },
  DealLost: { ...deal, reason: 'no budget', lostAt: at, resolvedConflicts: [] },
  DealIdClaimed: deal,
  DealSlotTaken: { partnerId: 'P-1', dealId: 'D-2', customerKey: 'acme.co.uk', maxOpenRegistrations: 25, programVersion: 3, freedDealIds: ['D-1'] },
  CustomerDomainAliased: { customerKey: 'acme.com', domain: 'acme.de', recordedOn: 'primary', aliasedAt: at },
  CustomerMarkedDirect: { customerKey: 'acme.com', reason: 'strategic account', until: '2026-12-31T00:00:00.000Z', markedAt: at },
  CustomerDirectReleased: { customerKey: 'acme.com', reason: 'handed to the channel', releasedAt: at },
  MdfFundsAllocated: { ...fund, amount: usd(1_000_000), tier: 'Silver', programVersion: 1, allocatedAt: at },
  MdfRequested: { ...fund, requestId: 'R-1', activity: 'Webinar', amount: usd(200_000), requestedAt: at, activityEndsAt: '2026-03-31T00:00:00.000Z' },
  MdfApproved: { ...fund, requestId: 'R-1', amount: usd(150_000), approvedAt: at, claimDeadline: '2026-06-29T00:00:00.000Z', mdfClaimDays: 90 },
  MdfApprovalReleased: { ...fund, requestId: 'R-1', amount: usd(50_000), claimDeadline: '2026-06-01T00:00:00.000Z', asOf: '2026-06-30T00:00:00.000Z', releasedAt: at },
  MdfBudgetSet: { period: '2026-Q1', amount: usd(100_000_000), setAt: at },
  MdfAllocationReserved: { ...fund, fundStreamId: 'mdf-P-1.2026-Q1', amount: usd(1_000_000) },
  MdfRequestRejected: { ...fund, requestId: 'R-1', reason: 'out of scope', rejectedAt: at },
  MdfClaimSubmitted: { ...fund, requestId: 'R-1', claimId: 'CL-1', amount: usd(150_000), proofOfPerformance: ['https://example.com/invoice.pdf'], submittedAt: at },
  MdfClaimApproved: { ...fund, requestId: 'R-1', claimId: 'CL-1', amount: usd(150_000), approvedAt: at },
  MdfClaimRejected: { ...fund, requestId: 'R-1', claimId: 'CL-1', reason: 'no proof', rejectedAt: at },
  MdfClaimPaid: { ...fund, requestId: 'R-1', claimId: 'CL-1', amount: usd(150_000), paidAt: at, reference: 'PAY-1' },
  MdfRequestIdReserved: { requestId: 'R-1', ...fund, fundStreamId: 'mdf-P-1.2026-Q1' },
  MdfClaimIdReserved: { claimId: 'CL-1', requestId: 'R-1', ...fund, fundStreamId: 'mdf-P-1.2026-Q1' },
  RevenueAttributed: {
    attributionId: 'A-1',
    dealId: 'D-1',
    amount: { amountMinor: 1_000_000, currency: 'EUR' },
    reportingCurrency: 'USD',
    reportingAmountMinor: 1_080_000,
    recognizedAt: at,
    credits: [{ partnerId: 'P-1', type: 'sourced', shareBps: 10_000 }],
    allocations: [{ partnerId: 'P-1', type: 'sourced', amountMinor: 1_000_000, reportingAmountMinor: 1_080_000 }],
    programVersion: 1,
    unregistered: false,
    conversion: { rate: '1.08', rateDate: '2026-03-01T00:00:00.000Z', source: 'ECB', reportingAmountMinor: 1_080_000 },
  },
  DealRevenueReserved: { dealId: 'D-1', attributionId: 'A-1', amount: usd(1_000_000), wonAmountMinor: 4_800_000 },
  ExchangeRatePublished: { currency: 'EUR', reportingCurrency: 'USD', date: '2026-03-01T00:00:00.000Z', rate: '1.0834', source: 'ECB', publishedAt: at },
  CommissionPlanDefined: {
    version: 1,
    holdDays: 30,
    minimumPayoutMinor: 5_000,
    rules: [{ creditType: 'sourced', rateBps: 1000 }, { tier: 'Gold', partnerType: 'reseller', creditType: 'sourced', rateBps: 2000 }],
    definedAt: at,
  },
  CommissionAccrued: {
    attributionId: 'A-1',
    partnerId: 'P-1',
    creditType: 'sourced',
    planVersion: 1,
    rule: { tier: 'Gold', partnerType: 'reseller', creditType: 'sourced', rateBps: 2000 },
    partnerType: 'reseller',
    tier: 'Gold',
    baseMinor: 1_080_000,
    rateBps: 2000,
    amountMinor: 216_000,
    currency: 'USD',
    recognizedAt: at,
    payableFrom: '2026-04-01T09:00:00.000Z',
  },
  CommissionClawedBack: {
    attributionId: 'A-1',
    partnerId: 'P-1',
    creditType: 'sourced',
    sequence: 1,
    planVersion: 1,
    rule: { tier: 'Gold', partnerType: 'reseller', creditType: 'sourced', rateBps: 2000 },
    baseMinor: 108_000,
    rateBps: 2000,
    amountMinor: 21_600,
    currency: 'USD',
    reversedAt: at,
    payableFrom: '2026-04-01T09:00:00.000Z',
  },
  PayoutRunCreated: {
    payoutId: 'PO-2026-Q1',
    asOf: '2026-03-31T00:00:00.000Z',
    currency: 'USD',
    planVersion: 1,
    minimumPayoutMinor: 5_000,
    lines: [{ partnerId: 'P-1', amountMinor: 194_400, accruals: [{ attributionId: 'A-1', creditType: 'sourced' }] }],
    carriedForward: [{ partnerId: 'P-2', amountMinor: 1_200, reason: 'below-minimum' }],
    createdAt: at,
  },
  PayoutRunApproved: { payoutId: 'PO-2026-Q1', approvedAt: at },
  PayoutRunCancelled: { payoutId: 'PO-2026-Q1', reason: 'wrong period', cancelledAt: at },
  PayoutLinePaid: { payoutId: 'PO-2026-Q1', partnerId: 'P-1', amountMinor: 194_400, currency: 'USD', paidAt: at, reference: 'WIRE-778812' },
  RevenueAttributionReversed: {
    attributionId: 'A-1',
    sequence: 1,
    amountMinor: 100_000,
    currency: 'EUR',
    reportingCurrency: 'USD',
    reportingAmountMinor: 108_000,
    reason: 'refund',
    reversedAt: at,
    allocations: [{ partnerId: 'P-1', type: 'sourced', amountMinor: 100_000, reportingAmountMinor: 108_000 }],
    remainingMinor: 900_000,
  },
  PartnerStatementIssued: {
    statementId: 'ST-2026-Q1-P-1',
    partnerId: 'P-1',
    period: '2026-Q1',
    position: '1042',
    digest: { size: 1042, rootHash: 'ab'.repeat(32) },
    programVersion: 2,
    commissionPlanVersion: 1,
    content: {
      format: 'channel-ledger/statement/1',
      partnerId: 'P-1',
      period: '2026-Q1',
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
      reportingCurrency: 'USD',
      tier: { atStart: 'Registered', atEnd: 'Gold', changes: [{ at: at, from: 'Registered', to: 'Gold', kind: 'promotion' }] },
      revenue: { sourced: { attributedMinor: 100_000, reversedMinor: 10_000, netMinor: 90_000 }, influenced: { attributedMinor: 0, reversedMinor: 0, netMinor: 0 }, attributions: 1 },
      deals: { registered: 2, approved: 1, rejected: 0, expired: 0, won: 1, lost: 1, wonMinor: { USD: 120_000 } },
      mdf: { USD: { allocatedMinor: 50_000, approvedMinor: 20_000, releasedMinor: 0, claimedMinor: 20_000, claimApprovedMinor: 20_000, paidMinor: 20_000 } },
      commissions: { openingMinor: 0, accruedMinor: 10_000, clawedBackMinor: 1_000, paidMinor: 0, closingMinor: 9_000 },
    },
    contentHash: 'cd'.repeat(32),
    signature: 'c2lnbmF0dXJl',
    verifierKey: 'channel-ledger/1a2b3c+0a1b2c3d+AQ==',
    issuedAt: at,
  },
};

function envelope(type: string, data: unknown): Record<string, unknown> {
  return {
    eventId: '0b7e5a52-3f56-4c1e-9d0e-4f1c2a3b4c5d',
    type,
    streamId: 'sample-1',
    revision: '0',
    position: '1',
    data,
    metadata: { schemaVersion: 1, actor: { id: 'ops', role: 'channel-ops' }, commandId: 'c', correlationId: 'c', causationId: 'c', recordedAt: at },
    prevHash: '0'.repeat(64),
    hash: 'a'.repeat(64),
  };
}

function validatorFor(): (type: string, value: unknown) => string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...JSON.parse(documentText), $id: 'asyncapi' });
  return (type, value) => {
    const validate = ajv.getSchema(`asyncapi#/components/messages/${type}/payload`);
    if (!validate) throw new Error(`no payload schema for ${type}`);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

describe('the AsyncAPI document (events/asyncapi.json)', () => {
  const documented = Object.keys(doc.components.messages);

  it('has a message for every type of every event type list, and no message without one', async () => {
    const lists = await eventTypeLists();
    expect(lists.size).toBeGreaterThan(0);
    const listed = new Set([...lists.values()].flat());
    const missing = [...lists].flatMap(([where, types]) => types.filter((t) => !documented.includes(t)).map((t) => `${t} (${where})`));
    if (missing.length) throw new Error(`${ASYNCAPI_FILE} has no message for: ${missing.join(', ')}. Run \`npm run asyncapi\`.`);
    const unlisted = documented.filter((t) => !listed.has(t));
    if (unlisted.length) throw new Error(`${ASYNCAPI_FILE} documents ${unlisted.join(', ')}, which no *_TYPES list in events/*.ts names: add it to its capability's list (or regenerate).`);
  });

  it('is exactly what `npm run asyncapi` generates from the TypeScript event unions now', () => {
    const generated = renderAsyncApiDocument(root);
    if (generated !== documentText) {
      // The first differing message names what changed, rather than a 2,000-line diff.
      const now = JSON.parse(generated) as typeof doc;
      const changed = [...new Set([...Object.keys(now.components.schemas), ...Object.keys(doc.components.schemas)])].filter(
        (k) => JSON.stringify(now.components.schemas[k]) !== JSON.stringify(doc.components.schemas[k]),
      );
      throw new Error(`${ASYNCAPI_FILE} is out of date with events/*.ts${changed.length ? ` (schemas: ${changed.join(', ')})` : ''}: run \`npm run asyncapi\`.`);
    }
  }, 30_000);

  it('is an AsyncAPI 3.0 document whose channel and operation reference every message', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    const channel = doc.channels.events!;
    expect(channel.address).toBe('/v1/events/stream');
    expect(Object.keys(channel.messages).sort()).toEqual([...documented].sort());
    for (const [name, ref] of Object.entries(channel.messages)) expect(ref.$ref).toBe(`#/components/messages/${name}`);
    const op = doc.operations.receiveEvents!;
    expect(op.action).toBe('receive');
    expect(op.channel.$ref).toBe('#/channels/events');
    expect(op.messages.map((m) => m.$ref).sort()).toEqual(documented.map((t) => `#/channels/events/messages/${t}`).sort());
    for (const t of documented) expect(doc.components.messages[t]!.name).toBe(t);
  });

  it('accepts a sample of every event type in its full envelope, and its schemas are not vacuous', () => {
    const validate = validatorFor();
    const samples = SAMPLES as Readonly<Record<string, Record<string, unknown>>>;
    const unsampled = documented.filter((t) => samples[t] === undefined);
    if (unsampled.length) throw new Error(`no sample for ${unsampled.join(', ')}: add them to SAMPLES in tools/asyncapi/asyncapi.spec.ts (and their union to \`Documented\`)`);
    for (const type of documented) {
      const data = samples[type]!;
      expect({ type, errors: validate(type, envelope(type, data)) }).toEqual({ type, errors: [] });
      const schema = doc.components.schemas[`${type}Data`]!;
      for (const field of Object.keys(schema.properties ?? {})) {
        const without = { ...data };
        delete without[field];
        const required = (schema.required ?? []).includes(field);
        expect({ type, field, valid: validate(type, envelope(type, without)).length === 0 }).toEqual({ type, field, valid: !required });
      }
      expect(validate(type, envelope(type, { ...data, notInTheContract: 1 }))).not.toEqual([]);
      expect(validate(type === 'PartnerEnrolled' ? 'PartnerActivated' : 'PartnerEnrolled', envelope(type, data))).not.toEqual([]);
    }
  });

  it('checks money and shares as integers and the envelope fields as the store writes them', () => {
    const validate = validatorFor();
    expect(validate('MdfRequested', envelope('MdfRequested', { ...SAMPLES.MdfRequested, amount: { amountMinor: 10.5, currency: 'USD' } }))).not.toEqual([]);
    const e = envelope('PartnerActivated', SAMPLES.PartnerActivated);
    expect(validate('PartnerActivated', { ...e, position: 7 })).not.toEqual([]);
    expect(validate('PartnerActivated', { ...e, metadata: { ...(e.metadata as object), recordedAt: 'yesterday' } })).not.toEqual([]);
    expect(validate('PartnerActivated', { ...e, metadata: { ...(e.metadata as object), requestHash: 'f'.repeat(64), actor: { id: 'p', role: 'partner', partnerId: 'P-1' } } })).toEqual([]);
  });
});
