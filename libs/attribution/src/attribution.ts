import { invalidField, requireInstant, requireText } from '#libs/kernel/input.js';
import type {
  AttributionAllocation,
  AttributionCredit,
  AttributionEvent,
  CreditType,
  RevenueAttributed,
  RevenueAttributionReversed,
} from '#events/attribution.js';
import { CREDIT_TYPES } from '#events/attribution.js';
import { assertNever, ID_PATTERN, type Decider } from '#libs/kernel/decider.js';
import { AlreadyExists, InvalidInput, NotFound, RuleViolation, type FieldError } from '#libs/kernel/errors.js';
import { allocateLargestRemainder, FULL_SHARE_BPS, mulDivRoundHalfUp, splitByBps } from '#libs/money/allocation.js';
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
}

/** Deal statuses under which a sourced credit may name the deal. */
export const CREDITABLE_DEAL_STATUSES: readonly string[] = ['approved', 'won'];

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
    /** The deal named by `dealId`, or undefined when the directory does not know it. */
    readonly deal?: DealFact;
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
  const reporting = reportingAmountFor(d.amount, d.reportingAmountMinor, facts.reportingCurrency);
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
  if (d.dealId !== undefined) checkDeal(d.dealId, d.credits, facts.deal);

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
    },
  };
}

/** The reporting amount to record: required in another currency, redundant (and so dropped) in the same one. */
function reportingAmountFor(amount: Money, given: number | undefined, reportingCurrency: string): number | undefined {
  if (amount.currency !== reportingCurrency) {
    if (given === undefined) {
      throw new RuleViolation(
        `the amount is in ${amount.currency}, not in the reporting currency ${reportingCurrency}: reportingAmountMinor (its conversion at close) is required`,
        { reportingCurrency },
        [{ path: 'reportingAmountMinor', message: `required when the currency is not ${reportingCurrency}` }],
      );
    }
    return given;
  }
  if (given !== undefined && given !== amount.amountMinor) {
    throw new RuleViolation(
      `the amount is already in the reporting currency ${reportingCurrency}: reportingAmountMinor must be left out (or equal amount.amountMinor)`,
      { reportingCurrency },
      [{ path: 'reportingAmountMinor', message: `must be absent or ${amount.amountMinor} for an amount in ${reportingCurrency}` }],
    );
  }
  return undefined;
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

function checkDeal(dealId: string, credits: readonly AttributionCredit[], deal: DealFact | undefined): void {
  if (deal === undefined) {
    throw new RuleViolation(`deal ${dealId} is not registered`, { dealId }, [{ path: 'dealId', message: 'no such deal registration' }]);
  }
  credits.forEach((c, i) => {
    if (c.type !== 'sourced') return;
    if (c.partnerId !== deal.partnerId) {
      throw new RuleViolation(`a sourced credit for deal ${dealId} must go to the partner that registered it (${deal.partnerId}), not ${c.partnerId}`, { dealId }, [
        { path: `credits.${i}.partnerId`, message: `deal ${dealId} was registered by another partner` },
      ]);
    }
    if (!CREDITABLE_DEAL_STATUSES.includes(deal.status)) {
      throw new RuleViolation(`deal ${dealId} is ${deal.status}: a sourced credit needs it approved or won`, { dealId, dealStatus: deal.status }, [
        { path: 'dealId', message: `must be approved or won, is ${deal.status}` },
      ]);
    }
  });
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

