import { dealRevenueStreamId, type CreditType, type AttributionCredit, type DealRevenueReserved } from '#events/attribution.js';
import { COMMISSION_PLAN } from '#cli/simulation/scenario.js';
import { mulberry32 } from '#libs/kernel/seeded-random.js';
import { COMMISSION_PLAN_STREAM_ID } from '#events/commissions.js';
import type { DealIdClaimed } from '#events/deals.js';
import type { Actor, DomainEventShape, EventMetadata } from '#events/envelope.js';
import type { MdfClaimIdReserved, MdfRequestIdReserved } from '#events/mdf.js';
import type { PartnerDomainClaimed, PartnerEvent, PartnerType } from '#events/partners.js';
import { attributionStreamId, type AttributionCommand } from '#libs/attribution/attribution.js';
import {
  commissionedAttributionDecider,
  decideCommissionedAttribution,
  evolveCommissionedAttribution,
  evolveTierHistory,
  initialTierHistory,
  type CommissionedAttributionCommand,
  type CommissionedAttributionState,
  type PartnerTierHistory,
} from '#libs/commissions/attribution-commissions.js';
import { decideCommissionPlan, DEFAULT_COMMISSION_PLAN, evolveCommissionPlan, type CommissionPlan, type DefineCommissionPlan } from '#libs/commissions/plan.js';
import { customerStreamId, decideCustomerAccount, evolveCustomerAccount, findRegistration, initialCustomerAccount, registrationsOf, type CustomerAccount, type DealCommand } from '#libs/deals/customer-account.js';
import { dealIdStreamId } from '#libs/deals/registration.js';
import type { NewEvent } from '#libs/event-store/port.js';
import { decideFund, evolveFund, fundStreamId, initialFundState, type FundState, type MdfCommand } from '#libs/mdf/fund.js';
import { claimIdStreamId, requestIdStreamId } from '#libs/mdf/ids.js';
import { domainClaimStreamId } from '#libs/partners/domain-claim.js';
import { eventIdFor, newCommandId } from '#libs/event-store/ids.js';
import { certifiedSellersAt, decidePartner, evolvePartner, initialPartnerState, partnerStreamId, type PartnerCommand, type PartnerState } from '#libs/partners/partner.js';
import { DEFAULT_PROGRAM, lowestTier } from '#libs/program/program.js';
import { evaluateTier } from '#libs/tiers/evaluation.js';

/**
 * A realistic synthetic log: partners enrolling, getting certified and changing tier; deal registrations
 * that overlap, conflict, get approved, won, lost and expire; revenue attributed (and sometimes reversed)
 * on won deals, with the commissions they accrue (and claw back) under the plan finance defines at the start;
 * MDF funds allocated, requested, claimed and paid. Every business event is decided by the
 * real pure deciders against the state folded so far (so a read model sees what the service would have
 * written), bookkeeping claims are written as the handlers write them, and the business clock moves about
 * three years over the run. Deterministic for a seed, except the UUIDs of event and command ids.
 */
export interface SyntheticAppend {
  readonly streamId: string;
  readonly events: readonly NewEvent[];
}

export interface SyntheticOptions {
  /** Stop once at least this many events were produced. */
  readonly events: number;
  readonly seed?: number;
  /** Business time of the first event. */
  readonly start?: Date;
}

export interface SyntheticSummary {
  partners: number;
  customers: number;
  deals: number;
  attributions: number;
  funds: number;
  /** Commands a decider refused (the simulation then does something else): a sanity number. */
  refused: number;
  readonly byType: Record<string, number>;
}

const PRODUCTS = Array.from({ length: 24 }, (_, i) => `SKU-${String(i + 1).padStart(3, '0')}`);
const PARTNER_TYPES: readonly PartnerType[] = ['reseller', 'distributor', 'msp', 'technology', 'referral'];
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'NL', 'JP', 'BR', 'IN'];
const CERTIFICATIONS = ['sales-foundations', 'technical-associate', 'solutions-architect'];
const DAY_MS = 86_400_000;
const YEARS_SIMULATED = 3;

interface PartnerSim {
  readonly id: string;
  state: PartnerState;
  /** What the partner's stream says of its type and tiers: the facts of its commission accruals. */
  tiers: PartnerTierHistory;
  sellers: number;
  /** (time, sourced reporting amount) of won deals, for tier evaluations over the lookback window. */
  readonly sourced: { t: number; minor: number }[];
  readonly wins: number[];
}

interface DealSim {
  readonly dealId: string;
  readonly partner: PartnerSim;
  readonly customer: CustomerSim;
  readonly estimateMinor: number;
}

interface CustomerSim {
  readonly key: string;
  state: CustomerAccount;
}

interface FundSim {
  readonly partner: PartnerSim;
  readonly period: string;
  state: FundState;
  readonly requests: string[];
  readonly claims: string[];
}

/**
 * The commission plan defined at the start of the log (the one `ledger simulate` defines, docs/commissions.md):
 * 10 % of sourced revenue, 2.5 % of influenced, more for Gold and Platinum; 30 days' hold, $500 minimum payout.
 */
export const SYNTHETIC_COMMISSION_PLAN: DefineCommissionPlan = COMMISSION_PLAN;

const ADMIN: Actor = { id: 'bench-admin', role: 'admin' };
const OPS: Actor = { id: 'bench-ops', role: 'channel-ops' };
const FINANCE: Actor = { id: 'bench-finance', role: 'finance' };

function quarterOf(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** Removes and returns a random element (order does not matter for these pools). */
function take<T>(r: () => number, xs: T[]): T | undefined {
  if (xs.length === 0) return undefined;
  const i = Math.floor(r() * xs.length);
  const x = xs[i]!;
  xs[i] = xs[xs.length - 1]!;
  xs.pop();
  return x;
}

/**
 * Yields the appends of the simulation in log order. A consumer may append them concurrently: the
 * simulation never needs to read anything back, it folds its own state.
 */
export function* syntheticLog(options: SyntheticOptions, summary?: SyntheticSummary): Generator<SyntheticAppend> {
  const r = mulberry32(options.seed ?? 42);
  const target = options.events;
  const start = (options.start ?? new Date('2023-01-02T08:00:00.000Z')).getTime();
  // The clock moves so that the whole run spans a few years whatever its size.
  const stepMs = Math.max(1, Math.floor((YEARS_SIMULATED * 365 * DAY_MS) / Math.max(1, target)));
  let now = start;
  let produced = 0;
  const sum: SyntheticSummary = summary ?? { partners: 0, customers: 0, deals: 0, attributions: 0, funds: 0, refused: 0, byType: {} };

  const partnerTarget = Math.max(10, Math.round(target / 400));
  const customerTarget = Math.max(20, Math.round(target / 40));
  const partners: PartnerSim[] = [];
  const active: PartnerSim[] = [];
  const customers: CustomerSim[] = [];
  const undecided: DealSim[] = [];
  const approved: DealSim[] = [];
  const attributions: { id: string; state: CommissionedAttributionState }[] = [];
  let plan: CommissionPlan = DEFAULT_COMMISSION_PLAN;
  const funds = new Map<string, FundSim>();
  const openFunds: FundSim[] = [];
  let seq = 0;
  const lowest = lowestTier(DEFAULT_PROGRAM).name;

  const envelope = (actor: Actor, streamId: string, events: readonly DomainEventShape[]): NewEvent[] => {
    const commandId = newCommandId();
    const metadata: EventMetadata = {
      schemaVersion: 1,
      actor,
      commandId,
      correlationId: commandId,
      causationId: commandId,
      recordedAt: new Date(now).toISOString(),
    };
    // Ids as the service makes them for a command without an Idempotency-Key (libs/kernel/src/ids.ts).
    return events.map((e, i) => ({ eventId: eventIdFor(commandId, streamId, i), type: e.type, data: e.data, metadata }));
  };
  const out: SyntheticAppend[] = [];
  const emit = (streamId: string, actor: Actor, events: readonly DomainEventShape[]): void => {
    if (events.length === 0) return;
    out.push({ streamId, events: envelope(actor, streamId, events) });
    produced += events.length;
    for (const e of events) sum.byType[e.type] = (sum.byType[e.type] ?? 0) + 1;
  };
  /** Runs a decider; a refusal is counted and the step does nothing. */
  const decide = <S, C, E extends DomainEventShape>(
    fn: (c: C, s: S, now: Date) => readonly E[],
    evolve: (s: S, e: E) => S,
    holder: { state: S },
    command: C,
  ): readonly E[] => {
    try {
      const events = fn(command, holder.state, new Date(now));
      for (const e of events) holder.state = evolve(holder.state, e);
      return events;
    } catch {
      sum.refused += 1;
      return [];
    }
  };
  const partnerCmd = (p: PartnerSim, c: PartnerCommand, actor: Actor = OPS): number => {
    const events = decide(decidePartner, evolvePartner, p, c);
    for (const e of events) p.tiers = evolveTierHistory(p.tiers, e as PartnerEvent);
    emit(partnerStreamId(p.id), actor, events);
    return events.length;
  };
  const dealCmd = (c: CustomerSim, command: DealCommand, actor: Actor = OPS): readonly DomainEventShape[] => {
    const events = decide(decideCustomerAccount, evolveCustomerAccount, c, command);
    emit(customerStreamId(c.key), actor, events);
    return events;
  };
  const fundCmd = (f: FundSim, command: MdfCommand, actor: Actor = FINANCE): number => {
    const events = decide(decideFund, evolveFund, f, command);
    emit(fundStreamId(f.partner.id, f.period), actor, events);
    return events.length;
  };
  const partnerActor = (p: PartnerSim): Actor => ({ id: `key-${p.id}`, role: 'partner', partnerId: p.id });

  const enroll = (): void => {
    const n = partners.length + 1;
    const id = `P${String(n).padStart(6, '0')}`;
    const domain = `partner${n}.com`;
    const p: PartnerSim = { id, state: initialPartnerState(), tiers: initialTierHistory(), sellers: 0, sourced: [], wins: [] };
    partners.push(p);
    sum.partners += 1;
    const claim: PartnerDomainClaimed = { type: 'PartnerDomainClaimed', data: { domain, partnerId: id } };
    emit(domainClaimStreamId(domain), ADMIN, [claim]);
    partnerCmd(
      p,
      { type: 'EnrollPartner', data: { partnerId: id, name: `Partner ${n}`, type: pick(r, PARTNER_TYPES), domain, country: pick(r, COUNTRIES), tier: lowest, programVersion: DEFAULT_PROGRAM.version } },
      ADMIN,
    );
    if (partnerCmd(p, { type: 'ActivatePartner', data: { partnerId: id } })) active.push(p);
  };

  const certify = (p: PartnerSim): void => {
    p.sellers += 1;
    const earnedAt = new Date(now).toISOString();
    const expiresAt = new Date(now + 365 * DAY_MS).toISOString();
    partnerCmd(p, { type: 'CertifySeller', data: { partnerId: p.id, sellerId: `${p.id}-S${p.sellers}`, certification: pick(r, CERTIFICATIONS), earnedAt, expiresAt } });
  };

  const register = (): void => {
    const p = pick(r, active);
    if (p.state.status !== 'active') return;
    // A long tail: new customers keep arriving, a few accounts see many registrations.
    let c: CustomerSim;
    if (customers.length < customerTarget && (customers.length < 10 || r() < 0.35)) {
      c = { key: `customer${customers.length + 1}.net`, state: initialCustomerAccount() };
      customers.push(c);
      sum.customers += 1;
    } else {
      c = customers[Math.floor(customers.length * r() ** 1.6)]!;
    }
    if (registrationsOf(c.state).length >= 60) return;
    const dealId = `D${String(++seq).padStart(8, '0')}`;
    const products = [...new Set(Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(r, PRODUCTS)))];
    const estimateMinor = 100_000 * (10 + Math.floor(r() * 490));
    const claim: DealIdClaimed = { type: 'DealIdClaimed', data: { dealId, partnerId: p.id, customerKey: c.key } };
    emit(dealIdStreamId(dealId), partnerActor(p), [claim]);
    const events = dealCmd(
      c,
      {
        type: 'RegisterDeal',
        data: {
          dealId,
          partnerId: p.id,
          customerKey: c.key,
          customer: { name: `Customer ${c.key}`, domain: `www.${c.key}`, country: pick(r, COUNTRIES) },
          products,
          estimatedValue: { amountMinor: estimateMinor, currency: 'USD' },
          expectedCloseDate: new Date(now + (30 + Math.floor(r() * 120)) * DAY_MS).toISOString(),
          programVersion: DEFAULT_PROGRAM.version,
          partnerStatus: 'active',
        },
      },
      partnerActor(p),
    );
    if (events.length) {
      undecided.push({ dealId, partner: p, customer: c, estimateMinor });
      sum.deals += 1;
    }
  };

  const statusOf = (d: DealSim): string | undefined => findRegistration(d.customer.state, d.dealId)?.status;

  const decideDeal = (): void => {
    const d = take(r, undecided);
    if (!d) return;
    const status = statusOf(d);
    if (status !== 'submitted' && status !== 'conflicted') return;
    if (r() < 0.8) {
      const events = dealCmd(d.customer, {
        type: 'ApproveDeal',
        // The bench approves in arrival order of its draws, not registration order: precedence is overridden.
        data: { dealId: d.dealId, protectionDays: DEFAULT_PROGRAM.protectionDays, programVersion: DEFAULT_PROGRAM.version, partnerStatus: 'active', override: { reason: 'bench' } },
      });
      if (events.length) approved.push(d);
      else dealCmd(d.customer, { type: 'RejectDeal', data: { dealId: d.dealId, reason: 'overlaps an approved registration', reasonCode: 'duplicate' } });
    } else {
      dealCmd(d.customer, { type: 'RejectDeal', data: { dealId: d.dealId, reason: 'not a qualified opportunity', reasonCode: 'not-qualified' } });
    }
  };

  const close = (): void => {
    const d = take(r, approved);
    if (!d) return;
    const reg = findRegistration(d.customer.state, d.dealId);
    if (reg?.status !== 'approved') return;
    if (reg.protection.protectedUntil < new Date(now).toISOString()) {
      const asOf = new Date(now).toISOString();
      dealCmd(d.customer, { type: 'ExpireDeals', data: { asOf, registrationReviewDays: 3660, terminatedPartners: [], programVersion: DEFAULT_PROGRAM.version } });
      return;
    }
    if (r() < 0.35) {
      dealCmd(d.customer, { type: 'LoseDeal', data: { dealId: d.dealId, reason: 'lost to a competitor' } });
      return;
    }
    const amountMinor = Math.round(d.estimateMinor * (0.6 + r() * 0.8));
    const closedAt = new Date(now).toISOString();
    if (!dealCmd(d.customer, { type: 'WinDeal', data: { dealId: d.dealId, amount: { amountMinor, currency: 'USD' }, closedAt, partnerStatus: 'active' } }).length) return;
    d.partner.wins.push(now);
    if (r() < 0.85) attribute(d, amountMinor);
  };

  const attribute = (d: DealSim, amountMinor: number): void => {
    const id = `A${String(++seq).padStart(8, '0')}`;
    const credits: AttributionCredit[] = [{ partnerId: d.partner.id, type: 'sourced' as CreditType, shareBps: 10_000 }];
    const credited: PartnerSim[] = [d.partner];
    if (r() < 0.3 && active.length > 2) {
      const others = [...new Set([pick(r, active), pick(r, active)])].filter((p) => p !== d.partner);
      const share = Math.floor(10_000 / Math.max(1, others.length));
      credited.push(...others);
      others.forEach((p, i) => credits.push({ partnerId: p.id, type: 'influenced', shareBps: i === others.length - 1 ? 10_000 - share * (others.length - 1) : share }));
    }
    // In the deal's currency (v2: an attribution is in the won amount's currency, never above it).
    const attribution: AttributionCommand = {
      type: 'AttributeRevenue',
      data: {
        attributionId: id,
        dealId: d.dealId,
        amount: { amountMinor, currency: 'USD' },
        recognizedAt: new Date(now).toISOString(),
        credits,
      },
      facts: {
        reportingCurrency: DEFAULT_PROGRAM.reportingCurrency,
        programVersion: DEFAULT_PROGRAM.version,
        enrolledPartnerIds: [...new Set(credits.map((c) => c.partnerId))],
        deal: { dealId: d.dealId, partnerId: d.partner.id, status: 'won', wonAmount: { amountMinor, currency: 'USD' } },
      },
    };
    // As the handler does: the plan in force and each credited partner's tier history decide the accruals.
    const command: CommissionedAttributionCommand = {
      ...attribution,
      commissions: { plan, partners: Object.fromEntries(credited.map((p) => [p.id, p.tiers])) },
    };
    const holder = { id, state: commissionedAttributionDecider.initialState() };
    const events = decide(decideCommissionedAttribution, evolveCommissionedAttribution, holder, command);
    if (events.length) {
      // The deal's won-amount cap, claimed first as the handler does (one attribution per deal here: it always fits).
      const reserved: DealRevenueReserved = { type: 'DealRevenueReserved', data: { dealId: d.dealId, attributionId: id, amount: { amountMinor, currency: 'USD' }, wonAmountMinor: amountMinor } };
      emit(dealRevenueStreamId(d.dealId), FINANCE, [reserved]);
    }
    emit(attributionStreamId(id), FINANCE, events);
    if (events.length) {
      attributions.push(holder);
      sum.attributions += 1;
      d.partner.sourced.push({ t: now, minor: amountMinor });
    }
  };

  const reverse = (): void => {
    const a = attributions.length ? pick(r, attributions) : undefined;
    if (!a || a.state.attribution.status === 'none') return;
    const events = decide(decideCommissionedAttribution, evolveCommissionedAttribution, a, {
      type: 'ReverseAttribution',
      data: { attributionId: a.id, amountMinor: r() < 0.5 ? undefined : 1000, reason: 'credit note', reversedAt: new Date(now).toISOString() },
    });
    emit(attributionStreamId(a.id), FINANCE, events);
  };

  const evaluate = (): void => {
    const p = pick(r, active);
    const from = now - DEFAULT_PROGRAM.lookbackDays * DAY_MS;
    const inputs = {
      netSourcedRevenueMinor: p.sourced.reduce((s, x) => (x.t >= from ? s + x.minor : s), 0),
      certifiedSellers: certifiedSellersAt(p.state, new Date(now)),
      wonDeals: p.wins.filter((t) => t >= from).length,
    };
    const events = evaluateTier(p.state, inputs, new Date(now), DEFAULT_PROGRAM);
    for (const e of events) p.state = evolvePartner(p.state, e);
    emit(partnerStreamId(p.id), ADMIN, events);
  };

  const mdf = (): void => {
    const roll = r();
    if (roll < 0.25 || openFunds.length === 0) {
      const p = pick(r, active);
      const s = p.state;
      if (s.status !== 'active') return;
      const tier = DEFAULT_PROGRAM.tiers.find((t) => t.name === s.tier);
      if (!tier?.mdfEligible) return;
      const period = quarterOf(now);
      const key = `${p.id}.${period}`;
      let f = funds.get(key);
      if (!f) {
        f = { partner: p, period, state: initialFundState(), requests: [], claims: [] };
        funds.set(key, f);
        openFunds.push(f);
        sum.funds += 1;
      }
      fundCmd(f, {
        type: 'AllocateFunds',
        data: { partnerId: p.id, period, amount: { amountMinor: 1_000_000 * (5 + Math.floor(r() * 20)), currency: 'USD' } },
        facts: { partnerStatus: s.status, tier: tier.name, tierMdfEligible: true, programVersion: DEFAULT_PROGRAM.version },
      });
      return;
    }
    const f = pick(r, openFunds);
    if (f.state.status !== 'open') return;
    const fundStream = fundStreamId(f.partner.id, f.period);
    const requests = [...f.state.requests.values()];
    const claims = [...f.state.claims.values()];
    const pendingRequest = requests.find((x) => x.status === 'requested');
    const approvedRequest = requests.find((x) => x.status === 'approved' && x.claimedMinor < x.approvedMinor);
    const submitted = claims.find((c) => c.status === 'submitted');
    const payable = claims.find((c) => c.status === 'approved');
    if (payable && roll < 0.4) {
      fundCmd(f, { type: 'PayClaim', data: { claimId: payable.claimId, paidAt: new Date(now).toISOString(), reference: `PAY-${++seq}` } });
    } else if (submitted && roll < 0.55) {
      if (r() < 0.9) fundCmd(f, { type: 'ApproveClaim', data: { claimId: submitted.claimId } });
      else fundCmd(f, { type: 'RejectClaim', data: { claimId: submitted.claimId, reason: 'proof of performance missing' } });
    } else if (approvedRequest && roll < 0.7) {
      const claimId = `C${String(++seq).padStart(8, '0')}`;
      const reservation: MdfClaimIdReserved = {
        type: 'MdfClaimIdReserved',
        data: { claimId, requestId: approvedRequest.requestId, partnerId: f.partner.id, period: f.period, fundStreamId: fundStream },
      };
      emit(claimIdStreamId(claimId), partnerActor(f.partner), [reservation]);
      fundCmd(
        f,
        {
          type: 'SubmitClaim',
          data: {
            requestId: approvedRequest.requestId,
            claimId,
            amount: { amountMinor: approvedRequest.approvedMinor - approvedRequest.claimedMinor, currency: f.state.currency },
            proofOfPerformance: [`https://docs.example.com/proof/${claimId}.pdf`],
          },
        },
        partnerActor(f.partner),
      );
    } else if (pendingRequest && roll < 0.85) {
      if (r() < 0.85) fundCmd(f, { type: 'ApproveRequest', data: { requestId: pendingRequest.requestId } });
      else fundCmd(f, { type: 'RejectRequest', data: { requestId: pendingRequest.requestId, reason: 'activity out of scope' } });
    } else {
      const available = f.state.allocatedMinor - f.state.approvedMinor;
      if (available < 100_000) return;
      const requestId = `R${String(++seq).padStart(8, '0')}`;
      const reservation: MdfRequestIdReserved = {
        type: 'MdfRequestIdReserved',
        data: { requestId, partnerId: f.partner.id, period: f.period, fundStreamId: fundStream },
      };
      emit(requestIdStreamId(requestId), partnerActor(f.partner), [reservation]);
      fundCmd(
        f,
        {
          type: 'RequestFunds',
          data: {
            requestId,
            partnerId: f.partner.id,
            period: f.period,
            activity: pick(r, ['webinar', 'trade show booth', 'email campaign', 'partner summit']),
            amount: { amountMinor: Math.max(100_000, Math.floor(available * (0.1 + r() * 0.3))), currency: f.state.currency },
          },
          facts: { partnerStatus: f.partner.state.status },
        },
        partnerActor(f.partner),
      );
    }
    // Funds of past quarters leave the working set once they have little left to do.
    if (f.period < quarterOf(now - 120 * DAY_MS)) openFunds.splice(openFunds.indexOf(f), 1);
  };

  // Finance defines the commission plan first: every attribution of the log accrues under it.
  const planHolder = { state: plan };
  emit(COMMISSION_PLAN_STREAM_ID, FINANCE, decide(decideCommissionPlan, evolveCommissionPlan, planHolder, SYNTHETIC_COMMISSION_PLAN));
  plan = planHolder.state;

  while (produced < target) {
    now += stepMs * (1 + Math.floor(r() * 2));
    if (partners.length < partnerTarget && (active.length < 3 || r() < 0.06)) enroll();
    else if (active.length === 0) throw new Error('synthetic log: no partner could be activated');
    else {
      const x = r();
      if (x < 0.36) register();
      else if (x < 0.56) decideDeal();
      else if (x < 0.7) close();
      else if (x < 0.74) certify(pick(r, active));
      else if (x < 0.9) mdf();
      else if (x < 0.97) evaluate();
      else if (x < 0.98) reverse();
      else if (r() < 0.05) {
        const p = pick(r, active);
        if (p.state.status === 'active') partnerCmd(p, { type: 'SuspendPartner', data: { partnerId: p.id, reason: 'overdue compliance review' } });
        else if (p.state.status === 'suspended') partnerCmd(p, { type: 'ReinstatePartner', data: { partnerId: p.id, reason: 'review passed' } });
      }
    }
    while (out.length) yield out.shift()!;
  }
}
