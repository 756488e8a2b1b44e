import { invalidField, requireInstant, requireText } from '#libs/kernel/input.js';
import type {
  MdfApprovalReleased,
  MdfApproved,
  MdfClaimApproved,
  MdfClaimPaid,
  MdfClaimRejected,
  MdfClaimSubmitted,
  MdfEvent,
  MdfFundsAllocated,
  MdfRequested,
  MdfRequestRejected,
} from '#events/mdf.js';
import { assertNever, ID_PATTERN, type Decider } from '#libs/kernel/decider.js';
import { AlreadyExists, NamedRuleViolation, NotFound, RuleViolation } from '#libs/kernel/errors.js';
import { moneyProblem, subMinor, type Money } from '#libs/money/money.js';

/**
 * One market development fund is one consistency boundary: `mdf-<partnerId>.<period>`. Every decision is
 * taken against the fund stream's revision and appended at it, so the invariants below hold at every
 * position of the log whatever the concurrency (DOMAIN.md, "Market development funds"):
 *   0 ≤ approved − released ≤ allocated;  per request claim approved + pending claims ≤ approved − released;
 *   paid ≤ claim approved ≤ claimed per claim;  available = allocated − approved + released.
 * "Claimed" counts what claims hold of a request: a pending claim its amount, an approved one its approved amount
 * (approving less frees the difference), a rejected one nothing. v2 (docs/money.md): claim deadlines, release runs.
 */
export const DAY_MS = 86_400_000;
/** The claim window of approvals recorded before v2 (the DOMAIN.md default). */
export const LEGACY_CLAIM_DAYS = 90;
export const PERIOD_PATTERN = /^(\d{4})-Q([1-4])$/;

export const fundStreamId = (partnerId: string, period: string): string => `mdf-${partnerId}.${period}`;

/** Inverse of `fundStreamId`. Periods contain no dot, so the last dot separates them from a partnerId that may. */
export function parseFundStreamId(streamId: string): { partnerId: string; period: string } | undefined {
  if (!streamId.startsWith('mdf-')) return undefined;
  const rest = streamId.slice(4);
  const dot = rest.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const partnerId = rest.slice(0, dot);
  const period = rest.slice(dot + 1);
  return ID_PATTERN.test(partnerId) && PERIOD_PATTERN.test(period) ? { partnerId, period } : undefined;
}

export const MAX_PROOFS = 20;
const MAX_PROOF_LENGTH = 2000;

export type AllocateFunds = {
  readonly type: 'AllocateFunds';
  readonly data: { readonly partnerId: string; readonly period: string; readonly amount: Money };
  /** The partner and the program in force, read by the handler just before deciding. */
  readonly facts: {
    /** 'none' when the partner is not enrolled. */
    readonly partnerStatus: string;
    readonly tier?: string;
    /** Whether `tier` is MDF eligible under the program in force. */
    readonly tierMdfEligible: boolean;
    readonly programVersion: number;
  };
};
export type RequestFunds = {
  readonly type: 'RequestFunds';
  readonly data: {
    readonly requestId: string;
    readonly partnerId: string;
    readonly period: string;
    readonly activity: string;
    readonly amount: Money;
    /** Canonical UTC instant. */
    readonly activityEndsAt?: string;
  };
  readonly facts: { readonly partnerStatus: string };
};
export type ApproveRequest = {
  readonly type: 'ApproveRequest';
  readonly data: { readonly requestId: string; readonly amount?: Money };
  /** The program in force (absent: the default 90 days). */
  readonly facts?: { readonly mdfClaimDays: number };
};
/** A release run over one fund: every approval past its claim deadline at `asOf` gives back what no claim holds. */
export type ReleaseApprovals = { readonly type: 'ReleaseApprovals'; readonly data: { readonly asOf: string } };
export type RejectRequest = { readonly type: 'RejectRequest'; readonly data: { readonly requestId: string; readonly reason: string } };
export type SubmitClaim = {
  readonly type: 'SubmitClaim';
  readonly data: { readonly requestId: string; readonly claimId: string; readonly amount: Money; readonly proofOfPerformance: readonly string[] };
  /** The partner's status, read just before deciding (absent: not checked). */
  readonly facts?: { readonly partnerStatus: string };
};
export type ApproveClaim = { readonly type: 'ApproveClaim'; readonly data: { readonly claimId: string; readonly amount?: Money } };
export type RejectClaim = { readonly type: 'RejectClaim'; readonly data: { readonly claimId: string; readonly reason: string } };
export type PayClaim = {
  readonly type: 'PayClaim';
  readonly data: { readonly claimId: string; readonly paidAt: string; readonly reference: string };
};

export type MdfCommand = AllocateFunds | RequestFunds | ApproveRequest | RejectRequest | SubmitClaim | ApproveClaim | RejectClaim | PayClaim | ReleaseApprovals;

export interface MdfRequestState {
  readonly requestId: string;
  readonly activity: string;
  readonly status: 'requested' | 'approved' | 'rejected';
  readonly requestedMinor: number;
  readonly approvedMinor: number;
  /** What this request's claims hold: pending claims their amount, approved ones their approved amount. */
  readonly claimedMinor: number;
  readonly claimIds: readonly string[];
  // v2
  readonly activityEndsAt?: string;
  readonly claimDeadline?: string;
  readonly releasedMinor: number;
  readonly claimApprovedMinor: number;
  readonly paidMinor: number;
}

export interface MdfClaimState {
  readonly claimId: string;
  readonly requestId: string;
  readonly status: 'submitted' | 'approved' | 'rejected' | 'paid';
  readonly claimedMinor: number;
  readonly approvedMinor: number;
  readonly paidMinor: number;
  readonly proofOfPerformance: readonly string[];
}

export type FundState =
  | { readonly status: 'none' }
  | {
      readonly status: 'open';
      readonly partnerId: string;
      readonly period: string;
      /** The currency of the first allocation; every amount of the fund is in it. */
      readonly currency: string;
      readonly allocatedMinor: number;
      readonly approvedMinor: number;
      readonly claimedMinor: number;
      readonly paidMinor: number;
      /** v2: approvals given back by release runs. */
      readonly releasedMinor: number;
      readonly requests: ReadonlyMap<string, MdfRequestState>;
      readonly claims: ReadonlyMap<string, MdfClaimState>;
    };

export type OpenFund = Extract<FundState, { status: 'open' }>;

export const initialFundState = (): FundState => ({ status: 'none' });

export function availableMinor(fund: FundState): number {
  return fund.status === 'none' ? 0 : fund.allocatedMinor - fund.approvedMinor + fund.releasedMinor;
}

/** What a request may still be claimed for: its approval, less what was released and what claims hold. */
export function claimableMinor(r: MdfRequestState): number {
  return r.approvedMinor - r.releasedMinor - r.claimedMinor;
}

/** The ledger invariants of DOMAIN.md for one fund, as a list of what is broken (empty when they hold). */
export function fundInvariantViolations(fund: FundState): string[] {
  if (fund.status === 'none') return [];
  const broken: string[] = [];
  const net = fund.approvedMinor - fund.releasedMinor;
  if (net < 0 || net > fund.allocatedMinor) broken.push(`fund ${fund.partnerId} ${fund.period}: approved − released ${net} outside [0, ${fund.allocatedMinor}]`);
  for (const r of fund.requests.values()) {
    const claims = r.claimIds.map((id) => fund.claims.get(id)!);
    const approved = claims.filter((c) => c.status === 'approved' || c.status === 'paid').reduce((n, c) => n + c.approvedMinor, 0);
    const pending = claims.filter((c) => c.status === 'submitted').reduce((n, c) => n + c.claimedMinor, 0);
    if (approved + pending > r.approvedMinor - r.releasedMinor) broken.push(`request ${r.requestId}: claims ${approved} approved + ${pending} pending > ${r.approvedMinor} − ${r.releasedMinor}`);
    for (const c of claims) if (c.paidMinor > c.approvedMinor) broken.push(`claim ${c.claimId}: paid ${c.paidMinor} > approved ${c.approvedMinor}`);
  }
  return broken;
}

const withRequest = (fund: OpenFund, r: MdfRequestState): ReadonlyMap<string, MdfRequestState> => new Map(fund.requests).set(r.requestId, r);
const withClaim = (fund: OpenFund, c: MdfClaimState): ReadonlyMap<string, MdfClaimState> => new Map(fund.claims).set(c.claimId, c);

/** Total: events are facts, so one that does not fit the state is ignored rather than refused. */
export function evolveFund(state: FundState, event: MdfEvent): FundState {
  if (event.type === 'MdfFundsAllocated') {
    const d = event.data;
    if (state.status === 'none') {
      return {
        status: 'open',
        partnerId: d.partnerId,
        period: d.period,
        currency: d.amount.currency,
        allocatedMinor: d.amount.amountMinor,
        approvedMinor: 0,
        claimedMinor: 0,
        paidMinor: 0,
        releasedMinor: 0,
        requests: new Map(),
        claims: new Map(),
      };
    }
    return { ...state, allocatedMinor: state.allocatedMinor + d.amount.amountMinor };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'MdfRequested': {
      const d = event.data;
      if (state.requests.has(d.requestId)) return state;
      const r: MdfRequestState = {
        requestId: d.requestId,
        activity: d.activity,
        status: 'requested',
        requestedMinor: d.amount.amountMinor,
        approvedMinor: 0,
        claimedMinor: 0,
        claimIds: [],
        ...(d.activityEndsAt !== undefined ? { activityEndsAt: d.activityEndsAt } : {}),
        releasedMinor: 0,
        claimApprovedMinor: 0,
        paidMinor: 0,
      };
      return { ...state, requests: withRequest(state, r) };
    }
    case 'MdfApproved': {
      const r = state.requests.get(event.data.requestId);
      if (r === undefined) return state;
      const approved = event.data.amount.amountMinor;
      const claimDeadline = event.data.claimDeadline ?? new Date(Date.parse(event.data.approvedAt) + LEGACY_CLAIM_DAYS * DAY_MS).toISOString();
      return {
        ...state,
        approvedMinor: state.approvedMinor + approved,
        requests: withRequest(state, { ...r, status: 'approved', approvedMinor: r.approvedMinor + approved, claimDeadline }),
      };
    }
    case 'MdfApprovalReleased': {
      const r = state.requests.get(event.data.requestId);
      if (r === undefined) return state;
      const released = event.data.amount.amountMinor;
      return { ...state, releasedMinor: state.releasedMinor + released, requests: withRequest(state, { ...r, releasedMinor: r.releasedMinor + released }) };
    }
    case 'MdfRequestRejected': {
      const r = state.requests.get(event.data.requestId);
      if (r === undefined) return state;
      return { ...state, requests: withRequest(state, { ...r, status: 'rejected' }) };
    }
    case 'MdfClaimSubmitted': {
      const d = event.data;
      const r = state.requests.get(d.requestId);
      if (r === undefined || state.claims.has(d.claimId)) return state;
      const amount = d.amount.amountMinor;
      const c: MdfClaimState = {
        claimId: d.claimId,
        requestId: d.requestId,
        status: 'submitted',
        claimedMinor: amount,
        approvedMinor: 0,
        paidMinor: 0,
        proofOfPerformance: d.proofOfPerformance,
      };
      return {
        ...state,
        claimedMinor: state.claimedMinor + amount,
        requests: withRequest(state, { ...r, claimedMinor: r.claimedMinor + amount, claimIds: [...r.claimIds, d.claimId] }),
        claims: withClaim(state, c),
      };
    }
    case 'MdfClaimApproved': {
      const c = state.claims.get(event.data.claimId);
      const r = c === undefined ? undefined : state.requests.get(c.requestId);
      if (c === undefined || r === undefined) return state;
      const approved = event.data.amount.amountMinor;
      // Approving less than claimed frees the difference for later claims on the request.
      const freed = c.claimedMinor - approved;
      return {
        ...state,
        claimedMinor: state.claimedMinor - freed,
        requests: withRequest(state, { ...r, claimedMinor: r.claimedMinor - freed, claimApprovedMinor: r.claimApprovedMinor + approved }),
        claims: withClaim(state, { ...c, status: 'approved', approvedMinor: approved }),
      };
    }
    case 'MdfClaimRejected': {
      const c = state.claims.get(event.data.claimId);
      const r = c === undefined ? undefined : state.requests.get(c.requestId);
      if (c === undefined || r === undefined || c.status === 'rejected') return state;
      return {
        ...state,
        claimedMinor: state.claimedMinor - c.claimedMinor,
        requests: withRequest(state, { ...r, claimedMinor: r.claimedMinor - c.claimedMinor }),
        claims: withClaim(state, { ...c, status: 'rejected' }),
      };
    }
    case 'MdfClaimPaid': {
      const c = state.claims.get(event.data.claimId);
      if (c === undefined) return state;
      const paid = event.data.amount.amountMinor;
      const r = state.requests.get(c.requestId);
      return {
        ...state,
        paidMinor: state.paidMinor + paid,
        ...(r !== undefined ? { requests: withRequest(state, { ...r, paidMinor: r.paidMinor + paid }) } : {}),
        claims: withClaim(state, { ...c, status: 'paid', paidMinor: c.paidMinor + paid }),
      };
    }
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

export function decideFund(command: MdfCommand, state: FundState, now: Date): readonly MdfEvent[] {
  const at = now.toISOString();
  switch (command.type) {
    case 'AllocateFunds':
      return [allocate(command, state, at)];
    case 'RequestFunds':
      return [request(command, state, at)];
    case 'ApproveRequest':
      return [approve(command, state, at)];
    case 'RejectRequest': {
      const reason = requireText(command.data.reason, 'reason');
      const { fund, request: r } = requestOf(state, command.data.requestId);
      if (r.status !== 'requested') throw new RuleViolation(`request ${r.requestId} is ${r.status}: only a pending request can be rejected`, { requestStatus: r.status });
      return [
        {
          type: 'MdfRequestRejected',
          data: { partnerId: fund.partnerId, period: fund.period, requestId: r.requestId, reason, rejectedAt: at },
        } satisfies MdfRequestRejected,
      ];
    }
    case 'SubmitClaim':
      return [submitClaim(command, state, at)];
    case 'ApproveClaim':
      return [approveClaim(command, state, at)];
    case 'RejectClaim': {
      const reason = requireText(command.data.reason, 'reason');
      const { fund, claim } = claimOf(state, command.data.claimId);
      if (claim.status !== 'submitted') throw new RuleViolation(`claim ${claim.claimId} is ${claim.status}: only a submitted claim can be rejected`, { claimStatus: claim.status });
      return [
        {
          type: 'MdfClaimRejected',
          data: { partnerId: fund.partnerId, period: fund.period, requestId: claim.requestId, claimId: claim.claimId, reason, rejectedAt: at },
        } satisfies MdfClaimRejected,
      ];
    }
    case 'PayClaim':
      return [pay(command, state)];
    case 'ReleaseApprovals':
      return release(command, state, at);
    default:
      return assertNever(command);
  }
}

export const fundDecider: Decider<MdfCommand, FundState, MdfEvent> = {
  initialState: initialFundState,
  evolve: evolveFund,
  decide: decideFund,
};

function allocate(command: AllocateFunds, state: FundState, at: string): MdfFundsAllocated {
  const d = command.data;
  const f = command.facts;
  requireId(d.partnerId, 'partnerId');
  requirePeriod(d.period);
  const amount = requireAmount(d.amount, 'amount');
  if (f.partnerStatus === 'none') throw partnerUnknown(d.partnerId);
  if (f.partnerStatus !== 'active') {
    throw new RuleViolation(`partner ${d.partnerId} is ${f.partnerStatus}: MDF is allocated to active partners only`, { partnerStatus: f.partnerStatus });
  }
  if (!f.tierMdfEligible || f.tier === undefined) {
    throw new RuleViolation(`partner ${d.partnerId} is at tier ${f.tier ?? '(none)'}, which is not MDF eligible under program version ${f.programVersion}`, {
      tier: f.tier,
      programVersion: f.programVersion,
    });
  }
  if (state.status === 'open') {
    requireFundCurrency(state, amount, 'amount');
    if (!Number.isSafeInteger(state.allocatedMinor + amount.amountMinor)) throw invalidField('amount.amountMinor', 'the fund would exceed the safe integer range');
  }
  return {
    type: 'MdfFundsAllocated',
    data: { partnerId: d.partnerId, period: d.period, amount, tier: f.tier, programVersion: f.programVersion, allocatedAt: at },
  };
}

function request(command: RequestFunds, state: FundState, at: string): MdfRequested {
  const d = command.data;
  requireId(d.requestId, 'requestId');
  requireId(d.partnerId, 'partnerId');
  requirePeriod(d.period);
  const activity = requireText(d.activity, 'activity');
  const amount = requireAmount(d.amount, 'amount');
  const activityEndsAt = d.activityEndsAt === undefined ? undefined : requireInstant(d.activityEndsAt, 'activityEndsAt');
  if (command.facts.partnerStatus === 'none') throw partnerUnknown(d.partnerId);
  if (command.facts.partnerStatus !== 'active') {
    throw new RuleViolation(`partner ${d.partnerId} is ${command.facts.partnerStatus}: only an active partner may request MDF`, { partnerStatus: command.facts.partnerStatus });
  }
  if (state.status === 'none') {
    throw new RuleViolation(`no MDF is allocated to partner ${d.partnerId} for ${d.period}: nothing is available`, { availableMinor: 0 }, [
      { path: 'amount.amountMinor', message: 'must not exceed the 0 available' },
    ]);
  }
  if (state.requests.has(d.requestId)) throw new AlreadyExists(`MDF request ${d.requestId} already exists`, { requestId: d.requestId });
  requireFundCurrency(state, amount, 'amount');
  requireAvailable(state, amount.amountMinor);
  return {
    type: 'MdfRequested',
    data: { partnerId: state.partnerId, period: state.period, requestId: d.requestId, activity, amount, requestedAt: at, ...(activityEndsAt !== undefined ? { activityEndsAt } : {}) },
  };
}

function approve(command: ApproveRequest, state: FundState, at: string): MdfApproved {
  const { fund, request: r } = requestOf(state, command.data.requestId);
  const amount = command.data.amount === undefined ? { amountMinor: r.requestedMinor, currency: fund.currency } : requireAmount(command.data.amount, 'amount');
  if (r.status !== 'requested') throw new RuleViolation(`request ${r.requestId} is ${r.status}: only a pending request can be approved`, { requestStatus: r.status });
  requireFundCurrency(fund, amount, 'amount');
  if (amount.amountMinor > r.requestedMinor) {
    throw new RuleViolation(`cannot approve ${amount.amountMinor}: request ${r.requestId} asked for ${r.requestedMinor}`, { requestedMinor: r.requestedMinor }, [
      { path: 'amount.amountMinor', message: `must not exceed the ${r.requestedMinor} requested` },
    ]);
  }
  requireAvailable(fund, amount.amountMinor);
  const mdfClaimDays = command.facts?.mdfClaimDays ?? LEGACY_CLAIM_DAYS;
  const claimDeadline = new Date(Date.parse(r.activityEndsAt ?? at) + mdfClaimDays * DAY_MS).toISOString();
  return {
    type: 'MdfApproved',
    data: { partnerId: fund.partnerId, period: fund.period, requestId: r.requestId, amount, approvedAt: at, claimDeadline, mdfClaimDays },
  };
}

function submitClaim(command: SubmitClaim, state: FundState, at: string): MdfClaimSubmitted {
  const d = command.data;
  requireId(d.claimId, 'claimId');
  const amount = requireAmount(d.amount, 'amount');
  const proofOfPerformance = requireProofs(d.proofOfPerformance);
  const { fund, request: r } = requestOf(state, d.requestId);
  if (fund.claims.has(d.claimId)) throw new AlreadyExists(`MDF claim ${d.claimId} already exists`, { claimId: d.claimId });
  if (r.status !== 'approved') throw new RuleViolation(`request ${r.requestId} is ${r.status}: claims need an approved request`, { requestStatus: r.status });
  const partnerStatus = command.facts?.partnerStatus;
  if (partnerStatus !== undefined && partnerStatus !== 'active') {
    throw new RuleViolation(`partner ${fund.partnerId} is ${partnerStatus}: only an active partner may claim MDF`, { partnerStatus });
  }
  if (r.claimDeadline !== undefined && at > r.claimDeadline) {
    throw new NamedRuleViolation('claim-deadline-passed', `claims on request ${r.requestId} were due by ${r.claimDeadline}`, { claimDeadline: r.claimDeadline });
  }
  requireFundCurrency(fund, amount, 'amount');
  const claimable = claimableMinor(r);
  if (amount.amountMinor > claimable) {
    throw new RuleViolation(
      `cannot claim ${amount.amountMinor}: request ${r.requestId} has ${r.approvedMinor} approved, ${r.releasedMinor} released, ${r.claimedMinor} held by claims`,
      { approvedMinor: r.approvedMinor, releasedMinor: r.releasedMinor, claimedMinor: r.claimedMinor, claimableMinor: claimable },
      [{ path: 'amount.amountMinor', message: `must not exceed the ${claimable} still claimable` }],
    );
  }
  return {
    type: 'MdfClaimSubmitted',
    data: { partnerId: fund.partnerId, period: fund.period, requestId: r.requestId, claimId: d.claimId, amount, proofOfPerformance, submittedAt: at },
  };
}

function approveClaim(command: ApproveClaim, state: FundState, at: string): MdfClaimApproved {
  const { fund, claim } = claimOf(state, command.data.claimId);
  const amount = command.data.amount === undefined ? { amountMinor: claim.claimedMinor, currency: fund.currency } : requireAmount(command.data.amount, 'amount');
  if (claim.status !== 'submitted') throw new RuleViolation(`claim ${claim.claimId} is ${claim.status}: only a submitted claim can be approved`, { claimStatus: claim.status });
  requireFundCurrency(fund, amount, 'amount');
  if (amount.amountMinor > claim.claimedMinor) {
    throw new RuleViolation(`cannot approve ${amount.amountMinor}: claim ${claim.claimId} is for ${claim.claimedMinor}`, { claimedMinor: claim.claimedMinor }, [
      { path: 'amount.amountMinor', message: `must not exceed the ${claim.claimedMinor} claimed` },
    ]);
  }
  return {
    type: 'MdfClaimApproved',
    data: { partnerId: fund.partnerId, period: fund.period, requestId: claim.requestId, claimId: claim.claimId, amount, approvedAt: at },
  };
}

function pay(command: PayClaim, state: FundState): MdfClaimPaid {
  const paidAt = requireInstant(command.data.paidAt, 'paidAt');
  const reference = requireText(command.data.reference, 'reference');
  const { fund, claim } = claimOf(state, command.data.claimId);
  if (claim.status !== 'approved') throw new RuleViolation(`claim ${claim.claimId} is ${claim.status}: only an approved claim can be paid`, { claimStatus: claim.status });
  return {
    type: 'MdfClaimPaid',
    data: {
      partnerId: fund.partnerId,
      period: fund.period,
      requestId: claim.requestId,
      claimId: claim.claimId,
      amount: { amountMinor: subMinor(claim.approvedMinor, claim.paidMinor), currency: fund.currency },
      paidAt,
      reference,
    },
  };
}

function release(command: ReleaseApprovals, state: FundState, at: string): MdfApprovalReleased[] {
  const asOf = requireInstant(command.data.asOf, 'asOf');
  if (state.status !== 'open') return [];
  const released: MdfApprovalReleased[] = [];
  for (const r of state.requests.values()) {
    if (r.status !== 'approved' || r.claimDeadline === undefined || r.claimDeadline >= asOf) continue;
    const free = claimableMinor(r);
    if (free <= 0) continue;
    released.push({
      type: 'MdfApprovalReleased',
      data: { partnerId: state.partnerId, period: state.period, requestId: r.requestId, amount: { amountMinor: free, currency: state.currency }, claimDeadline: r.claimDeadline, asOf, releasedAt: at },
    });
  }
  return released;
}

function requestOf(state: FundState, requestId: string): { fund: OpenFund; request: MdfRequestState } {
  const r = state.status === 'open' ? state.requests.get(requestId) : undefined;
  if (state.status !== 'open' || r === undefined) throw new NotFound(`MDF request ${requestId} not found`);
  return { fund: state, request: r };
}

function claimOf(state: FundState, claimId: string): { fund: OpenFund; claim: MdfClaimState } {
  const c = state.status === 'open' ? state.claims.get(claimId) : undefined;
  if (state.status !== 'open' || c === undefined) throw new NotFound(`MDF claim ${claimId} not found`);
  return { fund: state, claim: c };
}

function requireAvailable(fund: OpenFund, amountMinor: number): void {
  const available = availableMinor(fund);
  if (amountMinor > available) {
    throw new RuleViolation(`${amountMinor} is more than the ${available} ${fund.currency} minor units available in fund ${fund.partnerId} ${fund.period}`, { availableMinor: available }, [
      { path: 'amount.amountMinor', message: `must not exceed the ${available} available` },
    ]);
  }
}

function requireFundCurrency(fund: OpenFund, amount: Money, path: string): void {
  if (amount.currency !== fund.currency) {
    throw new RuleViolation(`fund ${fund.partnerId} ${fund.period} is in ${fund.currency}, not ${amount.currency}`, { currency: fund.currency }, [
      { path: `${path}.currency`, message: `must be ${fund.currency}, the fund's currency` },
    ]);
  }
}

function requireAmount(value: Money, path: string): Money {
  const problem = moneyProblem(value);
  if (problem !== undefined) throw invalidField(path, `${path}: ${problem}`);
  if (value.amountMinor === 0) throw invalidField(`${path}.amountMinor`, `${path}.amountMinor must be greater than zero`);
  return { amountMinor: value.amountMinor, currency: value.currency };
}

function requireProofs(value: readonly string[]): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_PROOFS) {
    throw invalidField('proofOfPerformance', `proofOfPerformance must list 1 to ${MAX_PROOFS} URLs or document references`);
  }
  value.forEach((p, i) => {
    if (typeof p !== 'string' || p.trim() === '' || p.length > MAX_PROOF_LENGTH) {
      throw invalidField(`proofOfPerformance.${i}`, `proofOfPerformance.${i} must be a non-empty string of at most ${MAX_PROOF_LENGTH} characters`);
    }
  });
  return [...value];
}

function requireId(value: string, path: string): void {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) throw invalidField(path, `${path} must match ${ID_PATTERN.source}`);
}

function requirePeriod(value: string): void {
  if (typeof value !== 'string' || !PERIOD_PATTERN.test(value)) throw invalidField('period', 'period must be a quarter, YYYY-Qn (e.g. 2026-Q1)');
}

function partnerUnknown(partnerId: string): RuleViolation {
  return new RuleViolation(`partner ${partnerId} is not enrolled`, { partnerId }, [{ path: 'partnerId', message: 'no such partner' }]);
}

