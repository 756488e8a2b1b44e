import { invalidField, requireInstant, requireText } from '#libs/kernel/input.js';
import type {
  AttributionConversion,
  AttributionAllocation,
  AttributionCredit,
  AttributionEvent,
  CreditType,
  RevenueAttributed,
  RevenueAttributionReversed,
} from '#events/attribution.js';
import { CREDIT_TYPES } from '#events/attribution.js';
import { assertNever, ID_PATTERN, type Decider } from '#libs/kernel/decider.js';
import { AlreadyExists, InvalidInput, NamedRuleViolation, NotFound, RuleViolation, type FieldError } from '#libs/kernel/errors.js';
import { allocateLargestRemainder, FULL_SHARE_BPS, mulDivRoundHalfUp, splitByBps } from '#libs/money/allocation.js';
import { convertMinor } from '#libs/money/conversion.js';
import { rateInForce, type ExchangeRateState } from '#libs/money/exchange-rates.js';
import { minorAmountProblem, moneyProblem, type Money } from '#libs/money/money.js';

/**
 * One attribution is one consistency boundary (`attribution-<attributionId>`): it is created once and then
 * only reversed, all or in parts, never beyond what remains. How one amount is credited (docs/money.md):
 * every credit type present is credited the WHOLE amount, split among that type's partners by their shares
 * with the largest-remainder method; sourced and influenced are two views of one amount, never added up.
 */
export const attributionStreamId = (attributionId: string): string => `attribution-${attributionId}`;

export const MAX_CREDITS = 100;

/** A deal as the deal directory has it at decision time (only what the rule reads). */
export interface DealFact {
  readonly dealId: string;
  readonly partnerId: string;
  readonly status: string;
  /** Set once won (v2: an attribution needs it, in its currency, and never more than it). */
  readonly wonAmount?: Money;
}

/** The largest sum any report may answer exactly: JSON numbers are exact up to 2^53 − 1. */
export const MAX_REPORTED_MINOR = Number.MAX_SAFE_INTEGER;

/** Everything already attributed, per currency (docs/money.md, "Sums stay exact"). */
export interface RecordedGross {
  /** Σ amountMinor of every attribution, by its currency. */
  readonly byCurrency: Readonly<Record<string, number>>;
  /** Σ reporting amount of every attribution, by its reporting currency. */
  readonly byReportingCurrency: Readonly<Record<string, number>>;
}

export type AttributeRevenue = {
  readonly type: 'AttributeRevenue';
  readonly data: {
    readonly attributionId: string;
    readonly dealId?: string;
    readonly amount: Money;
    readonly reportingAmountMinor?: number;
    /** Canonical UTC ISO 8601 (`toISOString`). */
    readonly recognizedAt: string;
    readonly credits: readonly AttributionCredit[];
  };
  /** Facts of other streams, read by the handler just before deciding. */
  readonly facts: {
    /** Of the program in force. */
    readonly reportingCurrency: string;
    readonly programVersion: number;
    /** The credited partners that are enrolled (any status). */
    readonly enrolledPartnerIds: readonly string[];
    /** The credited partners that are active (co-sellers of a deal must be). Absent: not checked. */
    readonly activePartnerIds?: readonly string[];
    /** The deal named by `dealId`, or undefined when the directory does not know it. */
    readonly deal?: DealFact;
    /** The published rates of `amount.currency` against the reporting currency (when they differ). */
    readonly rates?: ExchangeRateState;
    /** What the ledger already reports, so that no reported sum leaves the exact range. Absent: not checked. */
    readonly recorded?: RecordedGross;
  };
};

export type ReverseAttribution = {
  readonly type: 'ReverseAttribution';
  readonly data: {
    readonly attributionId: string;
    /** Absent: everything that remains. */
    readonly amountMinor?: number;
    readonly reason: string;
    readonly reversedAt: string;
  };
};

export type AttributionCommand = AttributeRevenue | ReverseAttribution;

export type AttributionState =
  | { readonly status: 'none' }
  | {
      /** `reversed` once nothing remains. */
      readonly status: 'attributed' | 'reversed';
      readonly attributionId: string;
      readonly dealId?: string;
      readonly amount: Money;
      readonly reportingCurrency: string;
      readonly reportingAmountMinor?: number;
      readonly conversion?: AttributionConversion;
      readonly unregistered: boolean;
      readonly recognizedAt: string;
      readonly credits: readonly AttributionCredit[];
      readonly allocations: readonly AttributionAllocation[];
      /** What remains of each allocation, in the order of `allocations`. */
      readonly remaining: readonly AttributionAllocation[];
      /** What remains of the amount; within each credit type the remaining allocations sum to it. */
      readonly remainingMinor: number;
      readonly remainingReportingMinor?: number;
      readonly reversals: number;
    };

export type ExistingAttribution = Exclude<AttributionState, { status: 'none' }>;

export const initialAttributionState = (): AttributionState => ({ status: 'none' });

/** Total: a fact that does not fit the state (a second creation, a reversal of nothing) is ignored. */
export function evolveAttribution(state: AttributionState, event: AttributionEvent): AttributionState {
  switch (event.type) {
    case 'RevenueAttributed': {
      if (state.status !== 'none') return state;
      const d = event.data;
      return {
        status: 'attributed',
        attributionId: d.attributionId,
        ...(d.dealId !== undefined ? { dealId: d.dealId } : {}),
        amount: d.amount,
        reportingCurrency: d.reportingCurrency,
        ...(d.reportingAmountMinor !== undefined ? { reportingAmountMinor: d.reportingAmountMinor, remainingReportingMinor: d.reportingAmountMinor } : {}),
        // Events recorded before v2 carry neither: a caller's figure then, and unregistered when no deal is named.
        ...(d.conversion !== undefined
          ? { conversion: d.conversion }
          : d.reportingAmountMinor !== undefined
            ? { conversion: { source: 'caller', reportingAmountMinor: d.reportingAmountMinor } }
            : {}),
        unregistered: d.unregistered ?? d.dealId === undefined,
        recognizedAt: d.recognizedAt,
        credits: d.credits,
        allocations: d.allocations,
        remaining: d.allocations,
        remainingMinor: d.amount.amountMinor,
        reversals: 0,
      };
    }
    case 'RevenueAttributionReversed': {
      if (state.status === 'none') return state;
      const d = event.data;
      const taken = new Map(d.allocations.map((a) => [`${a.type}\n${a.partnerId}`, a]));
      const remaining = state.remaining.map((r) => {
        const t = taken.get(`${r.type}\n${r.partnerId}`);
        if (t === undefined) return r;
        return {
          ...r,
          amountMinor: r.amountMinor - t.amountMinor,
          ...(r.reportingAmountMinor !== undefined ? { reportingAmountMinor: r.reportingAmountMinor - (t.reportingAmountMinor ?? 0) } : {}),
        };
      });
      const remainingMinor = state.remainingMinor - d.amountMinor;
      return {
        ...state,
        status: remainingMinor === 0 ? 'reversed' : 'attributed',
        remaining,
        remainingMinor,
        ...(state.remainingReportingMinor !== undefined ? { remainingReportingMinor: state.remainingReportingMinor - (d.reportingAmountMinor ?? 0) } : {}),
        reversals: state.reversals + 1,
      };
    }
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

export function decideAttribution(command: AttributionCommand, state: AttributionState, _now: Date): readonly AttributionEvent[] {
  switch (command.type) {
    case 'AttributeRevenue':
      return [attribute(command, state)];
    case 'ReverseAttribution':
      return [reverse(command, state)];
    default:
      return assertNever(command);
  }
}

export const attributionDecider: Decider<AttributionCommand, AttributionState, AttributionEvent> = {
  initialState: initialAttributionState,
  evolve: evolveAttribution,
  decide: decideAttribution,
};

/** The credit types present in `credits`, in the fixed order sourced, influenced. */
export function creditTypesOf(credits: readonly { readonly type: CreditType }[]): CreditType[] {
  return CREDIT_TYPES.filter((t) => credits.some((c) => c.type === t));
}

/**
 * Splits `amountMinor` (and the reporting amount, if any) for every credit type present, by largest
 * remainder over the shares, ties to the smaller partnerId. Returns allocations in the order of `credits`.
 */
export function allocateCredits(
  credits: readonly AttributionCredit[],
  amountMinor: number,
  reportingAmountMinor?: number,
): AttributionAllocation[] {
  const byKey = new Map<string, { amountMinor: number; reportingAmountMinor?: number }>();
  for (const type of creditTypesOf(credits)) {
    const ofType = credits.filter((c) => c.type === type);
    const shares = ofType.map((c) => ({ key: c.partnerId, bps: c.shareBps }));
    const amounts = splitByBps(amountMinor, shares);
    const reporting = reportingAmountMinor === undefined ? undefined : splitByBps(reportingAmountMinor, shares);
    ofType.forEach((c, i) =>
      byKey.set(`${type}\n${c.partnerId}`, { amountMinor: amounts[i]!, ...(reporting !== undefined ? { reportingAmountMinor: reporting[i]! } : {}) }),
    );
  }
  return credits.map((c) => ({ partnerId: c.partnerId, type: c.type, ...byKey.get(`${c.type}\n${c.partnerId}`)! }));
}

function attribute(command: AttributeRevenue, state: AttributionState): RevenueAttributed {
  const d = command.data;
  const facts = command.facts;
  if (!ID_PATTERN.test(d.attributionId)) throw invalidField('attributionId', `attributionId must match ${ID_PATTERN.source}`);
  if (state.status !== 'none') throw new AlreadyExists(`attribution ${d.attributionId} already exists`, { attributionId: d.attributionId });
  if (d.dealId !== undefined && !ID_PATTERN.test(d.dealId)) throw invalidField('dealId', `dealId must match ${ID_PATTERN.source}`);
  const moneyIssue = moneyProblem(d.amount);
  if (moneyIssue !== undefined) throw invalidField('amount', `amount: ${moneyIssue}`);
  if (d.amount.amountMinor === 0) throw invalidField('amount.amountMinor', 'amount.amountMinor must be greater than zero: there is nothing to attribute');
  const recognizedAt = requireInstant(d.recognizedAt, 'recognizedAt');
  validateCredits(d.credits);
  if (d.reportingAmountMinor !== undefined) {
    const issue = minorAmountProblem(d.reportingAmountMinor);
    if (issue !== undefined) throw invalidField('reportingAmountMinor', `reportingAmountMinor ${issue}`);
  }

  // Rules that depend on the state of the ledger (the program in force, partners, the deal): 422.
  const conversion = conversionFor(d.amount, d.reportingAmountMinor, facts.reportingCurrency, recognizedAt, facts.rates);
  const reporting = conversion?.reportingAmountMinor;
  checkRange(d.amount, reporting ?? d.amount.amountMinor, facts.reportingCurrency, facts.recorded);
  const enrolled = new Set(facts.enrolledPartnerIds);
  const unknown = d.credits.map((c, i) => ({ c, i })).filter(({ c }) => !enrolled.has(c.partnerId));
  if (unknown.length) {
    const ids = [...new Set(unknown.map(({ c }) => c.partnerId))];
    throw new RuleViolation(
      `credited partners must be enrolled; not enrolled: ${ids.join(', ')}`,
      { partnerIds: ids },
      unknown.map(({ c, i }) => ({ path: `credits.${i}.partnerId`, message: `partner ${c.partnerId} is not enrolled` })),
    );
  }
  if (d.dealId !== undefined) checkDeal(d.dealId, d.amount, d.credits, facts.deal, facts.activePartnerIds);

  return {
    type: 'RevenueAttributed',
    data: {
      attributionId: d.attributionId,
      ...(d.dealId !== undefined ? { dealId: d.dealId } : {}),
      amount: { amountMinor: d.amount.amountMinor, currency: d.amount.currency },
      reportingCurrency: facts.reportingCurrency,
      ...(reporting !== undefined ? { reportingAmountMinor: reporting } : {}),
      recognizedAt,
      credits: d.credits.map((c) => ({ partnerId: c.partnerId, type: c.type, shareBps: c.shareBps })),
      allocations: allocateCredits(d.credits, d.amount.amountMinor, reporting),
      programVersion: facts.programVersion,
      unregistered: d.dealId === undefined,
      ...(conversion !== undefined ? { conversion } : {}),
    },
  };
}

/**
 * The conversion to record (DOMAIN.md, "Revenue attribution"): none in the reporting currency itself; the caller's
 * own figure when given (`source: "caller"`); otherwise the rate in force at `recognizedAt`, exactly.
 */
/** The reporting amount `command` would record, or undefined when it would be refused (for bookkeeping ahead of the decision). */
export function expectedReportingMinor(command: AttributeRevenue): number | undefined {
  try {
    const d = command.data;
    return conversionFor(d.amount, d.reportingAmountMinor, command.facts.reportingCurrency, d.recognizedAt, command.facts.rates)?.reportingAmountMinor ?? d.amount.amountMinor;
  } catch {
    return undefined;
  }
}

function conversionFor(amount: Money, given: number | undefined, reportingCurrency: string, recognizedAt: string, rates: ExchangeRateState | undefined): AttributionConversion | undefined {
  if (amount.currency === reportingCurrency) {
    if (given !== undefined && given !== amount.amountMinor) {
      throw new RuleViolation(
        `the amount is already in the reporting currency ${reportingCurrency}: reportingAmountMinor must be left out (or equal amount.amountMinor)`,
        { reportingCurrency },
        [{ path: 'reportingAmountMinor', message: `must be absent or ${amount.amountMinor} for an amount in ${reportingCurrency}` }],
      );
    }
    return undefined;
  }
  if (given !== undefined) return { source: 'caller', reportingAmountMinor: given };
  const rate = rates === undefined ? undefined : rateInForce(rates, recognizedAt);
  if (rate === undefined) {
    throw new NamedRuleViolation(
      'no-exchange-rate',
      `no ${amount.currency}→${reportingCurrency} rate is in force at ${recognizedAt}: publish one (POST /v1/exchange-rates) or give reportingAmountMinor`,
      { currency: amount.currency, reportingCurrency, at: recognizedAt },
      [{ path: 'reportingAmountMinor', message: `required while no ${amount.currency}→${reportingCurrency} rate is in force at ${recognizedAt}` }],
    );
  }
  const converted = convertMinor(amount.amountMinor, amount.currency, reportingCurrency, rate.rate);
  if (converted > BigInt(MAX_REPORTED_MINOR)) throw outOfRange(`${amount.amountMinor} ${amount.currency} at ${rate.rate} is ${converted} ${reportingCurrency} minor units`, 'amount.amountMinor');
  return { rate: rate.rate, rateDate: rate.date, source: rate.source, reportingAmountMinor: Number(converted) };
}

/**
 * Every sum a report answers is a sum of attributed amounts (in one currency, or in one reporting currency), so
 * it is at most everything attributed in that currency: keeping that total within 2^53 − 1 keeps every reported
 * sum (per partner, period, currency, and the totals) exact.
 */
function checkRange(amount: Money, reportingMinor: number, reportingCurrency: string, recorded: RecordedGross | undefined): void {
  if (recorded === undefined) return;
  const inCurrency = recorded.byCurrency[amount.currency] ?? 0;
  if (inCurrency + amount.amountMinor > MAX_REPORTED_MINOR) {
    throw outOfRange(`${inCurrency} ${amount.currency} minor units are attributed already; ${amount.amountMinor} more would take the ${amount.currency} sums past 2^53 − 1`, 'amount.amountMinor');
  }
  const inReporting = recorded.byReportingCurrency[reportingCurrency] ?? 0;
  if (inReporting + reportingMinor > MAX_REPORTED_MINOR) {
    throw outOfRange(`${inReporting} ${reportingCurrency} minor units are reported already; ${reportingMinor} more would take the reporting sums past 2^53 − 1`, 'amount.amountMinor');
  }
}

function outOfRange(detail: string, path: string): NamedRuleViolation {
  return new NamedRuleViolation('amount-out-of-range', `${detail}: no reported sum may leave the exact range of JSON numbers`, { maxMinor: MAX_REPORTED_MINOR }, [
    { path, message: 'would take a reported sum past 2^53 − 1' },
  ]);
}

function validateCredits(credits: readonly AttributionCredit[]): void {
  if (!Array.isArray(credits) || credits.length === 0) throw invalidField('credits', 'credits must name at least one partner');
  if (credits.length > MAX_CREDITS) throw invalidField('credits', `credits may name at most ${MAX_CREDITS} partners`);
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  credits.forEach((c, i) => {
    if (typeof c.partnerId !== 'string' || !ID_PATTERN.test(c.partnerId)) errors.push({ path: `credits.${i}.partnerId`, message: `must match ${ID_PATTERN.source}` });
    if (!CREDIT_TYPES.includes(c.type)) errors.push({ path: `credits.${i}.type`, message: `must be one of ${CREDIT_TYPES.join(', ')}` });
    if (!Number.isSafeInteger(c.shareBps) || c.shareBps < 1 || c.shareBps > FULL_SHARE_BPS) {
      errors.push({ path: `credits.${i}.shareBps`, message: `must be an integer from 1 to ${FULL_SHARE_BPS}` });
    }
    const key = `${c.type}\n${c.partnerId}`;
    if (seen.has(key)) errors.push({ path: `credits.${i}.partnerId`, message: `partner ${c.partnerId} is credited twice as ${c.type}` });
    seen.add(key);
  });
  if (errors.length) throw new InvalidInput(`credits are not valid: ${errors[0]!.path} ${errors[0]!.message}`, {}, errors);
  for (const type of creditTypesOf(credits)) {
    const sum = credits.filter((c) => c.type === type).reduce((s, c) => s + c.shareBps, 0);
    if (sum !== FULL_SHARE_BPS) {
      throw invalidField('credits', `the ${type} shares sum to ${sum} basis points: each credit type present must sum to exactly ${FULL_SHARE_BPS}`);
    }
  }
}

/**
 * v2 (DOMAIN.md, "Attribution integrity"): the deal is won, the amount is in the currency it was won in and not
 * above it (the cap net of the deal's other attributions is held by the deal's revenue stream, deal-revenue.ts),
 * the registering partner is among the sourced credits, and any other sourced partner (co-sell) is active.
 */
function checkDeal(dealId: string, amount: Money, credits: readonly AttributionCredit[], deal: DealFact | undefined, activePartnerIds: readonly string[] | undefined): void {
  if (deal === undefined) {
    throw new RuleViolation(`deal ${dealId} is not registered`, { dealId }, [{ path: 'dealId', message: 'no such deal registration' }]);
  }
  if (deal.status !== 'won' || deal.wonAmount === undefined) {
    throw new NamedRuleViolation('deal-not-won', `deal ${dealId} is ${deal.status}: revenue is attributed to won deals only`, { dealId, dealStatus: deal.status }, [
      { path: 'dealId', message: `must be won, is ${deal.status}` },
    ]);
  }
  if (amount.currency !== deal.wonAmount.currency) {
    throw new RuleViolation(`deal ${dealId} was won in ${deal.wonAmount.currency}: its revenue is attributed in that currency`, { dealId, currency: deal.wonAmount.currency }, [
      { path: 'amount.currency', message: `must be ${deal.wonAmount.currency}` },
    ]);
  }
  if (amount.amountMinor > deal.wonAmount.amountMinor) throw exceedsWonAmount(dealId, amount.amountMinor, deal.wonAmount.amountMinor, 0);
  const sourced = credits.map((c, i) => ({ c, i })).filter(({ c }) => c.type === 'sourced');
  if (!sourced.some(({ c }) => c.partnerId === deal.partnerId)) {
    throw new RuleViolation(`deal ${dealId} was registered by ${deal.partnerId}: that partner must be among the sourced credits`, { dealId, registeredBy: deal.partnerId }, [
      { path: 'credits', message: `must credit ${deal.partnerId} as sourced` },
    ]);
  }
  if (activePartnerIds === undefined) return;
  const active = new Set(activePartnerIds);
  const inactive = sourced.filter(({ c }) => c.partnerId !== deal.partnerId && !active.has(c.partnerId));
  if (inactive.length) {
    throw new RuleViolation(
      `a partner sharing the sourced credit of deal ${dealId} must be active; not active: ${inactive.map(({ c }) => c.partnerId).join(', ')}`,
      { dealId },
      inactive.map(({ c, i }) => ({ path: `credits.${i}.partnerId`, message: `partner ${c.partnerId} is not active` })),
    );
  }
}

export function exceedsWonAmount(dealId: string, amountMinor: number, wonMinor: number, attributedMinor: number): NamedRuleViolation {
  const left = Math.max(0, wonMinor - attributedMinor);
  return new NamedRuleViolation(
    'exceeds-won-amount',
    `deal ${dealId} was won for ${wonMinor}; ${attributedMinor} is attributed already (net of reversals), so at most ${left} more, not ${amountMinor}`,
    { dealId, wonAmountMinor: wonMinor, attributedMinor, remainingMinor: left },
    [{ path: 'amount.amountMinor', message: `must not exceed ${left}` }],
  );
}

function reverse(command: ReverseAttribution, state: AttributionState): RevenueAttributionReversed {
  const d = command.data;
  if (state.status === 'none') throw new NotFound(`attribution ${d.attributionId} not found`);
  const reason = requireText(d.reason, 'reason');
  const reversedAt = requireInstant(d.reversedAt, 'reversedAt');
  if (d.amountMinor !== undefined) {
    const issue = minorAmountProblem(d.amountMinor);
    if (issue !== undefined) throw invalidField('amountMinor', `amountMinor ${issue}`);
    if (d.amountMinor === 0) throw invalidField('amountMinor', 'amountMinor must be greater than zero (leave it out to reverse everything that remains)');
  }
  if (reversedAt < state.recognizedAt) {
    throw new RuleViolation(`a reversal cannot precede the revenue it reverses (recognized at ${state.recognizedAt})`, { recognizedAt: state.recognizedAt }, [
      { path: 'reversedAt', message: `must not be before ${state.recognizedAt}` },
    ]);
  }
  if (state.remainingMinor === 0) {
    throw new RuleViolation(`attribution ${state.attributionId} is fully reversed: nothing remains to take back`, { remainingMinor: 0 });
  }
  const amountMinor = d.amountMinor ?? state.remainingMinor;
  if (amountMinor > state.remainingMinor) {
    throw new RuleViolation(`cannot take back ${amountMinor}: only ${state.remainingMinor} ${state.amount.currency} minor units remain of attribution ${state.attributionId}`, {
      remainingMinor: state.remainingMinor,
    }, [{ path: 'amountMinor', message: `must not exceed ${state.remainingMinor}` }]);
  }

  const remainingReporting = state.remainingReportingMinor;
  const reportingAmountMinor =
    remainingReporting === undefined
      ? undefined
      : amountMinor === state.remainingMinor
        ? remainingReporting
        : mulDivRoundHalfUp(amountMinor, remainingReporting, state.remainingMinor);

  // Split over what remains: a part never exceeds what its allocation still holds (see allocateLargestRemainder).
  const taken = new Map<string, AttributionAllocation>();
  for (const type of creditTypesOf(state.remaining)) {
    const ofType = state.remaining.filter((r) => r.type === type);
    const amounts = allocateLargestRemainder(amountMinor, ofType.map((r) => ({ key: r.partnerId, weight: r.amountMinor })));
    const reporting =
      reportingAmountMinor === undefined ? undefined : allocateLargestRemainder(reportingAmountMinor, ofType.map((r) => ({ key: r.partnerId, weight: r.reportingAmountMinor ?? 0 })));
    ofType.forEach((r, i) =>
      taken.set(`${type}\n${r.partnerId}`, {
        partnerId: r.partnerId,
        type,
        amountMinor: amounts[i]!,
        ...(reporting !== undefined ? { reportingAmountMinor: reporting[i]! } : {}),
      }),
    );
  }
  return {
    type: 'RevenueAttributionReversed',
    data: {
      attributionId: state.attributionId,
      sequence: state.reversals + 1,
      amountMinor,
      currency: state.amount.currency,
      reportingCurrency: state.reportingCurrency,
      ...(reportingAmountMinor !== undefined ? { reportingAmountMinor } : {}),
      reason,
      reversedAt,
      allocations: state.remaining.map((r) => taken.get(`${r.type}\n${r.partnerId}`)!),
      remainingMinor: state.remainingMinor - amountMinor,
    },
  };
}

