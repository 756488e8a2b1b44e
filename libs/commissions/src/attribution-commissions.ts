import type { AttributionEvent, CreditType, RevenueAttributed, RevenueAttributionReversed } from '#events/attribution.js';
import type { CommissionAccrued, CommissionClawedBack, CommissionEvent, CommissionRuleData } from '#events/commissions.js';
import type { PartnerEvent, PartnerType } from '#events/partners.js';
import { decideAttribution, evolveAttribution, initialAttributionState, type AttributeRevenue, type AttributionState, type ReverseAttribution } from '#libs/attribution/attribution.js';
import type { Decider } from '#libs/kernel/decider.js';
import { accrualsFor, type PartnerCommissionFacts } from './accrual.js';
import { clawbackMinor, type CommissionPlan } from './plan.js';

/**
 * Accruals and clawbacks appended atomically with the attribution or reversal that causes them (DOMAIN.md,
 * "Commissions and payouts (v2)"): the attribution's own stream `attribution-<attributionId>` carries them, so
 * they are decided on the same state and written in the same append as `RevenueAttributed` /
 * `RevenueAttributionReversed`, and a refused attribution or reversal appends no commission either.
 */

// --- The partner's tier at a business time -----------------------------------------------------------------

/** What a partner's stream says of its type and tiers over business time. */
export interface PartnerTierHistory {
  readonly partnerType?: PartnerType;
  /** The tier at enrollment (the program's lowest). */
  readonly enrolledTier?: string;
  /** Own tier changes, at the business time (`asOf`) of the evaluation that decided each, in log order. */
  readonly changes: readonly { readonly at: string; readonly tier: string }[];
  /** Overrides, each holding from `from` (when recorded) until `until` or until it ended, in log order. */
  readonly overrides: readonly { readonly tier: string; readonly from: string; readonly until: string }[];
}

export const initialTierHistory = (): PartnerTierHistory => ({ changes: [], overrides: [] });

const earlier = (a: string, b: string): string => (a < b ? a : b);

/** Total: events that do not bear on tiers are ignored. */
export function evolveTierHistory(state: PartnerTierHistory, event: PartnerEvent): PartnerTierHistory {
  switch (event.type) {
    case 'PartnerEnrolled':
      return state.partnerType !== undefined ? state : { ...state, partnerType: event.data.type, enrolledTier: event.data.tier };
    case 'PartnerTierChanged':
      return { ...state, changes: [...state.changes, { at: event.data.asOf, tier: event.data.to }] };
    case 'PartnerTierOverridden': {
      const at = event.data.overriddenAt;
      // A new override replaces the one in force: that one ends when this one begins.
      const ended = state.overrides.map((o) => ({ ...o, until: earlier(o.until, at) }));
      return { ...state, overrides: [...ended, { tier: event.data.tier, from: at, until: event.data.until }] };
    }
    case 'PartnerTierOverrideEnded': {
      const at = event.data.endedAt;
      return { ...state, overrides: state.overrides.map((o) => ({ ...o, until: earlier(o.until, at) })) };
    }
    default:
      return state;
  }
}

/**
 * The partner's tier at business time `at`: an override holding then (from ≤ at < until), else its own tier as of
 * the latest tier change whose `asOf` is at or before `at` (the later in the log on a tie), else its enrollment tier.
 */
export function tierAt(history: PartnerTierHistory, at: string): string | undefined {
  for (let i = history.overrides.length - 1; i >= 0; i--) {
    const o = history.overrides[i]!;
    if (o.from <= at && at < o.until) return o.tier;
  }
  let best: { at: string; tier: string } | undefined;
  for (const c of history.changes) if (c.at <= at && (best === undefined || c.at >= best.at)) best = c;
  return best?.tier ?? history.enrolledTier;
}

export const tierHistoryFold = { initialState: initialTierHistory, evolve: evolveTierHistory };

// --- The attribution stream with its commissions -------------------------------------------------------------

/** One allocation's accrual as the attribution stream holds it. */
export interface AccrualRecord {
  readonly partnerId: string;
  readonly creditType: CreditType;
  readonly baseMinor: number;
  readonly amountMinor: number;
  readonly clawedBackMinor: number;
  readonly planVersion: number;
  readonly rule: CommissionRuleData;
  readonly rateBps: number;
  readonly currency: string;
  readonly payableFrom: string;
}

export interface CommissionedAttributionState {
  readonly attribution: AttributionState;
  readonly accruals: readonly AccrualRecord[];
}

/** Read by the handler just before deciding: the plan in force and what the credited partners' streams say. */
export interface CommissionFacts {
  readonly plan: CommissionPlan;
  readonly partners: Readonly<Record<string, PartnerTierHistory>>;
}

export type CommissionedAttributionCommand = (AttributeRevenue & { readonly commissions?: CommissionFacts }) | ReverseAttribution;

export type CommissionedAttributionEvent = AttributionEvent | CommissionEvent;

export function evolveCommissionedAttribution(state: CommissionedAttributionState, event: CommissionedAttributionEvent): CommissionedAttributionState {
  switch (event.type) {
    case 'CommissionAccrued': {
      const d = event.data;
      if (state.accruals.some((a) => a.partnerId === d.partnerId && a.creditType === d.creditType)) return state;
      const record: AccrualRecord = {
        partnerId: d.partnerId,
        creditType: d.creditType,
        baseMinor: d.baseMinor,
        amountMinor: d.amountMinor,
        clawedBackMinor: 0,
        planVersion: d.planVersion,
        rule: d.rule,
        rateBps: d.rateBps,
        currency: d.currency,
        payableFrom: d.payableFrom,
      };
      return { ...state, accruals: [...state.accruals, record] };
    }
    case 'CommissionClawedBack': {
      const d = event.data;
      return {
        ...state,
        accruals: state.accruals.map((a) => (a.partnerId === d.partnerId && a.creditType === d.creditType ? { ...a, clawedBackMinor: a.clawedBackMinor + d.amountMinor } : a)),
      };
    }
    default:
      return { ...state, attribution: evolveAttribution(state.attribution, event) };
  }
}

export function decideCommissionedAttribution(command: CommissionedAttributionCommand, state: CommissionedAttributionState, now: Date): readonly CommissionedAttributionEvent[] {
  const out: CommissionedAttributionEvent[] = [];
  for (const e of decideAttribution(command, state.attribution, now)) {
    out.push(e);
    if (e.type === 'RevenueAttributed' && command.type === 'AttributeRevenue' && command.commissions !== undefined) out.push(...accrued(e.data, command.commissions));
    if (e.type === 'RevenueAttributionReversed') out.push(...clawedBack(e.data, state));
  }
  return out;
}

export const commissionedAttributionDecider: Decider<CommissionedAttributionCommand, CommissionedAttributionState, CommissionedAttributionEvent> = {
  initialState: () => ({ attribution: initialAttributionState(), accruals: [] }),
  evolve: evolveCommissionedAttribution,
  decide: decideCommissionedAttribution,
};

/** The accruals of a new attribution: the plan in force, each partner's type and its tier at `recognizedAt`. */
function accrued(d: RevenueAttributed['data'], facts: CommissionFacts): CommissionAccrued[] {
  const partners = new Map<string, PartnerCommissionFacts & { tier: string }>();
  for (const [partnerId, h] of Object.entries(facts.partners)) {
    const tier = tierAt(h, d.recognizedAt);
    if (h.partnerType !== undefined && tier !== undefined) partners.set(partnerId, { partnerType: h.partnerType, tier });
  }
  return accrualsFor(d.allocations, d.recognizedAt, facts.plan, partners).map((line) => {
    const p = partners.get(line.partnerId)!;
    return {
      type: 'CommissionAccrued',
      data: {
        attributionId: d.attributionId,
        partnerId: line.partnerId,
        creditType: line.creditType,
        planVersion: line.planVersion,
        rule: line.rule,
        partnerType: p.partnerType,
        tier: p.tier,
        baseMinor: line.baseMinor,
        rateBps: line.rateBps,
        amountMinor: line.amountMinor,
        currency: d.reportingCurrency,
        recognizedAt: d.recognizedAt,
        payableFrom: line.payableFrom,
      },
    };
  });
}

/**
 * The clawbacks of a reversal: each reversed allocation that accrued gives back in proportion to the reversed part
 * of its reporting amount; a reversal that takes what remains of an allocation takes what remains of its accrual,
 * so the clawbacks of a fully reversed attribution always equal its accruals, whatever the rounding.
 */
function clawedBack(d: RevenueAttributionReversed['data'], state: CommissionedAttributionState): CommissionClawedBack[] {
  const out: CommissionClawedBack[] = [];
  const attribution = state.attribution;
  if (attribution.status === 'none') return out;
  for (const t of d.allocations) {
    const acc = state.accruals.find((a) => a.partnerId === t.partnerId && a.creditType === t.type);
    if (acc === undefined) continue;
    const left = acc.amountMinor - acc.clawedBackMinor;
    const reversed = t.reportingAmountMinor ?? t.amountMinor;
    const before = attribution.remaining.find((r) => r.partnerId === t.partnerId && r.type === t.type);
    const remainingBefore = before === undefined ? undefined : (before.reportingAmountMinor ?? before.amountMinor);
    const amountMinor = remainingBefore !== undefined && reversed >= remainingBefore ? left : clawbackMinor(acc.amountMinor, left, reversed, acc.baseMinor);
    if (amountMinor <= 0) continue;
    out.push({
      type: 'CommissionClawedBack',
      data: {
        attributionId: d.attributionId,
        partnerId: t.partnerId,
        creditType: t.type,
        sequence: d.sequence,
        planVersion: acc.planVersion,
        rule: acc.rule,
        baseMinor: reversed,
        rateBps: acc.rateBps,
        amountMinor,
        currency: acc.currency,
        reversedAt: d.reversedAt,
        payableFrom: acc.payableFrom,
      },
    });
  }
  return out;
}
