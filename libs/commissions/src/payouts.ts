import type { CreditType } from '#events/attribution.js';
import type { CarriedForwardData, PayoutEvent, PayoutLineData } from '#events/commissions.js';
import { assertNever, ID_PATTERN, type Decider } from '#libs/kernel/decider.js';
import { AlreadyExists, NotFound, RuleViolation } from '#libs/kernel/errors.js';
import { invalidField, requireInstant, requireText } from '#libs/kernel/input.js';

/**
 * Payout runs (DOMAIN.md, "Commissions and payouts (v2)"), all in one stream `payout-runs`: every run is decided
 * at the revision of every other, so under any concurrency an accrual is in at most one live (not cancelled) run
 * and a line is paid once. A run pays each partner its payable balance at `asOf` (accruals payable by then, net of
 * every clawback known) less what live runs already hold for it, so a clawback after payment nets against the
 * next run; a balance below the plan's minimum, or not positive, carries forward.
 */

/** One accrual as the log shows it when a run is created (read by the handler from the attribution streams). */
export interface AccrualFact {
  readonly partnerId: string;
  readonly attributionId: string;
  readonly creditType: CreditType;
  readonly currency: string;
  readonly amountMinor: number;
  /** Every clawback of it known now. */
  readonly clawedBackMinor: number;
  readonly payableFrom: string;
}

export interface RunLine extends PayoutLineData {
  readonly paidAt?: string;
  readonly reference?: string;
}

export type PayoutRunStatus = 'created' | 'approved' | 'paid' | 'cancelled';

export interface PayoutRun {
  readonly payoutId: string;
  readonly asOf: string;
  readonly currency: string;
  readonly planVersion: number;
  readonly minimumPayoutMinor: number;
  readonly status: PayoutRunStatus;
  readonly lines: readonly RunLine[];
  readonly carriedForward: readonly CarriedForwardData[];
  readonly createdAt: string;
  readonly approvedAt?: string;
  readonly cancelledAt?: string;
  readonly cancelReason?: string;
}

export interface PayoutRunsState {
  /** By payoutId, in creation order (a Map: any id is a key, `constructor` and `42` included, and order is kept). */
  readonly runs: ReadonlyMap<string, PayoutRun>;
}

export type CreatePayoutRun = {
  readonly type: 'CreatePayoutRun';
  readonly data: { readonly payoutId: string; readonly asOf: string };
  readonly facts: {
    /** The reporting currency: a run pays the accruals in it. */
    readonly currency: string;
    readonly planVersion: number;
    readonly minimumPayoutMinor: number;
    readonly accruals: readonly AccrualFact[];
  };
};
export type ApprovePayoutRun = { readonly type: 'ApprovePayoutRun'; readonly data: { readonly payoutId: string } };
export type CancelPayoutRun = { readonly type: 'CancelPayoutRun'; readonly data: { readonly payoutId: string; readonly reason: string } };
export type MarkPayoutLinePaid = {
  readonly type: 'MarkPayoutLinePaid';
  readonly data: { readonly payoutId: string; readonly partnerId: string; readonly paidAt: string; readonly reference: string };
};
export type PayoutCommand = CreatePayoutRun | ApprovePayoutRun | CancelPayoutRun | MarkPayoutLinePaid;

export const initialPayoutRuns = (): PayoutRunsState => ({ runs: new Map() });

const live = (r: PayoutRun): boolean => r.status !== 'cancelled';
const accrualKey = (partnerId: string, attributionId: string, creditType: string): string => `${partnerId}\n${attributionId}\n${creditType}`;

export function evolvePayoutRuns(state: PayoutRunsState, event: PayoutEvent): PayoutRunsState {
  const d = event.data;
  const run = state.runs.get(d.payoutId);
  const put = (r: PayoutRun): PayoutRunsState => ({ runs: new Map(state.runs).set(r.payoutId, r) });
  switch (event.type) {
    case 'PayoutRunCreated': {
      if (run !== undefined) return state;
      const { payoutId, asOf, currency, planVersion, minimumPayoutMinor, lines, carriedForward, createdAt } = event.data;
      return put({ payoutId, asOf, currency, planVersion, minimumPayoutMinor, status: 'created', lines, carriedForward, createdAt });
    }
    case 'PayoutRunApproved':
      return run === undefined ? state : put({ ...run, status: run.lines.every((l) => l.paidAt !== undefined) ? 'paid' : 'approved', approvedAt: event.data.approvedAt });
    case 'PayoutRunCancelled':
      return run === undefined ? state : put({ ...run, status: 'cancelled', cancelledAt: event.data.cancelledAt, cancelReason: event.data.reason });
    case 'PayoutLinePaid': {
      if (run === undefined) return state;
      const lines = run.lines.map((l) => (l.partnerId === event.data.partnerId && l.paidAt === undefined ? { ...l, paidAt: event.data.paidAt, reference: event.data.reference } : l));
      return put({ ...run, lines, status: lines.every((l) => l.paidAt !== undefined) ? 'paid' : run.status });
    }
    default:
      return assertNever(event);
  }
}

export function decidePayoutRuns(command: PayoutCommand, state: PayoutRunsState, now: Date): readonly PayoutEvent[] {
  switch (command.type) {
    case 'CreatePayoutRun':
      return [create(command, state, now)];
    case 'ApprovePayoutRun': {
      const run = existing(state, command.data.payoutId);
      if (run.approvedAt !== undefined) return [];
      if (run.status === 'cancelled') throw new RuleViolation(`payout run ${run.payoutId} was cancelled: it cannot be approved`, { status: run.status });
      return [{ type: 'PayoutRunApproved', data: { payoutId: run.payoutId, approvedAt: now.toISOString() } }];
    }
    case 'CancelPayoutRun': {
      const reason = requireText(command.data.reason, 'reason');
      const run = existing(state, command.data.payoutId);
      if (run.status === 'cancelled') return [];
      if (run.status !== 'created') {
        throw new RuleViolation(`payout run ${run.payoutId} is ${run.status}: a run may be cancelled only before approval`, { status: run.status });
      }
      return [{ type: 'PayoutRunCancelled', data: { payoutId: run.payoutId, reason, cancelledAt: now.toISOString() } }];
    }
    case 'MarkPayoutLinePaid': {
      const d = command.data;
      const paidAt = requireInstant(d.paidAt, 'paidAt');
      const reference = requireText(d.reference, 'reference');
      const run = existing(state, d.payoutId);
      const line = run.lines.find((l) => l.partnerId === d.partnerId);
      if (line === undefined) throw new NotFound(`payout run ${run.payoutId} has no line for partner ${d.partnerId}`);
      if (line.paidAt !== undefined) {
        throw new AlreadyExists(
          `the line of partner ${d.partnerId} in payout run ${run.payoutId} was paid already (${line.reference} at ${line.paidAt})`,
          { paidAt: line.paidAt, reference: line.reference },
          [],
          'already-paid',
        );
      }
      if (run.status !== 'approved') throw new RuleViolation(`payout run ${run.payoutId} is ${run.status}: lines are paid once it is approved`, { status: run.status });
      return [{ type: 'PayoutLinePaid', data: { payoutId: run.payoutId, partnerId: d.partnerId, amountMinor: line.amountMinor, currency: run.currency, paidAt, reference } }];
    }
    default:
      return assertNever(command);
  }
}

function existing(state: PayoutRunsState, payoutId: string): PayoutRun {
  const run = state.runs.get(payoutId);
  if (run === undefined) throw new NotFound(`payout run ${payoutId} not found`);
  return run;
}

function create(command: CreatePayoutRun, state: PayoutRunsState, now: Date) {
  const { payoutId } = command.data;
  if (typeof payoutId !== 'string' || !ID_PATTERN.test(payoutId)) throw invalidField('payoutId', `payoutId must match ${ID_PATTERN.source}`);
  const asOf = requireInstant(command.data.asOf, 'asOf');
  if (state.runs.has(payoutId)) throw new AlreadyExists(`payout run ${payoutId} already exists`, { payoutId });
  if (asOf > now.toISOString()) {
    throw new RuleViolation(`asOf ${asOf} is in the future: a run pays what is payable by now at the latest`, {}, [{ path: 'asOf', message: 'must not be after now' }]);
  }
  // Two runs awaiting approval at once are the double run finance does not want: the second is refused.
  const pending = [...state.runs.values()].find((r) => r.status === 'created');
  if (pending !== undefined) {
    throw new AlreadyExists(`payout run ${pending.payoutId} (asOf ${pending.asOf}) awaits approval: approve or cancel it before creating another`, { pendingPayoutId: pending.payoutId }, [], 'payout-run-pending');
  }
  const f = command.facts;
  const runs = [...state.runs.values()].filter(live);
  const inRuns = new Set<string>();
  const held = new Map<string, bigint>();
  for (const r of runs) {
    for (const l of r.lines) {
      if (r.currency !== f.currency) continue;
      for (const a of l.accruals) inRuns.add(accrualKey(l.partnerId, a.attributionId, a.creditType));
      held.set(l.partnerId, (held.get(l.partnerId) ?? 0n) + BigInt(l.amountMinor));
    }
  }
  const entitled = new Map<string, bigint>();
  const fresh = new Map<string, { attributionId: string; creditType: CreditType }[]>();
  for (const a of f.accruals) {
    if (a.currency !== f.currency || a.payableFrom > asOf) continue;
    entitled.set(a.partnerId, (entitled.get(a.partnerId) ?? 0n) + BigInt(a.amountMinor - a.clawedBackMinor));
    if (!inRuns.has(accrualKey(a.partnerId, a.attributionId, a.creditType))) {
      const list = fresh.get(a.partnerId) ?? [];
      list.push({ attributionId: a.attributionId, creditType: a.creditType });
      fresh.set(a.partnerId, list);
    }
  }
  const lines: PayoutLineData[] = [];
  const carriedForward: CarriedForwardData[] = [];
  for (const partnerId of [...new Set([...entitled.keys(), ...held.keys()])].sort()) {
    const amount = (entitled.get(partnerId) ?? 0n) - (held.get(partnerId) ?? 0n);
    const accruals = (fresh.get(partnerId) ?? []).sort((a, b) => (a.attributionId < b.attributionId ? -1 : a.attributionId > b.attributionId ? 1 : a.creditType < b.creditType ? -1 : 1));
    if (amount > 0n && amount >= BigInt(f.minimumPayoutMinor)) lines.push({ partnerId, amountMinor: Number(amount), accruals });
    else if (amount !== 0n || accruals.length > 0) carriedForward.push({ partnerId, amountMinor: Number(amount), reason: amount > 0n ? 'below-minimum' : 'not-positive' });
  }
  return {
    type: 'PayoutRunCreated' as const,
    data: { payoutId, asOf, currency: f.currency, planVersion: f.planVersion, minimumPayoutMinor: f.minimumPayoutMinor, lines, carriedForward, createdAt: now.toISOString() },
  };
}

export const payoutRunsDecider: Decider<PayoutCommand, PayoutRunsState, PayoutEvent> = {
  initialState: initialPayoutRuns,
  evolve: evolvePayoutRuns,
  decide: decidePayoutRuns,
};
