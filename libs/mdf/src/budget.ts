import { isRecorded, type RecordedEvent } from '#events/envelope.js';
import { MDF_BUDGET_EVENT_TYPES, type MdfAllocationReserved, type MdfBudgetEvent, type MdfBudgetSet } from '#events/mdf.js';
import type { Decider } from '#libs/kernel/decider.js';
import { invalidField } from '#libs/kernel/input.js';
import { NamedRuleViolation } from '#libs/kernel/errors.js';
import { moneyProblem, type Money } from '#libs/money/money.js';
import { PERIOD_PATTERN } from './fund.js';

/**
 * The MDF budget of one period (`mdfbudget-<period>`), a consistency boundary of its own (DOMAIN.md, "Budget per
 * period"; docs/money.md). Every allocation of the period reserves its amount here first, at the stream's revision,
 * so the allocations of all partners' funds of the period never exceed its budget whatever the concurrency; the
 * budget may be raised or lowered, never below what is reserved. Without a budget allocations are unlimited, but
 * still kept within 2^53 − 1 per currency so that every reported sum stays exact.
 *
 * A reservation whose allocation never landed (the process died between the two appends) keeps counting: the
 * budget errs on the side of never being exceeded.
 */
export interface BudgetState {
  /** currency → budget, when one is set. */
  readonly budgets: ReadonlyMap<string, number>;
  /** currency → Σ reserved by allocations. */
  readonly reserved: ReadonlyMap<string, number>;
}

export type SetBudget = { readonly type: 'SetBudget'; readonly data: { readonly period: string; readonly amount: Money } };

export const mdfBudgetInitialState = (): BudgetState => ({ budgets: new Map(), reserved: new Map() });

export function evolveBudget(state: BudgetState, event: MdfBudgetEvent): BudgetState {
  const { currency, amountMinor } = event.data.amount;
  if (event.type === 'MdfBudgetSet') return { ...state, budgets: new Map(state.budgets).set(currency, amountMinor) };
  return { ...state, reserved: new Map(state.reserved).set(currency, (state.reserved.get(currency) ?? 0) + amountMinor) };
}

export function decideBudget(command: SetBudget, state: BudgetState, now: Date): readonly MdfBudgetSet[] {
  const { period, amount } = command.data;
  if (typeof period !== 'string' || !PERIOD_PATTERN.test(period)) throw invalidField('period', 'period must be a quarter, YYYY-Qn (e.g. 2026-Q1)');
  const problem = moneyProblem(amount);
  if (problem !== undefined) throw invalidField('amount', `amount: ${problem}`);
  const reserved = state.reserved.get(amount.currency) ?? 0;
  if (amount.amountMinor < reserved) {
    throw new NamedRuleViolation('budget-below-allocated', `${reserved} ${amount.currency} minor units of ${period} are allocated already: the budget cannot be lower`, { allocatedMinor: reserved }, [
      { path: 'amount.amountMinor', message: `must be at least ${reserved}` },
    ]);
  }
  if (state.budgets.get(amount.currency) === amount.amountMinor) return [];
  return [{ type: 'MdfBudgetSet', data: { period, amount: { amountMinor: amount.amountMinor, currency: amount.currency }, setAt: now.toISOString() } }];
}

export const mdfBudgetDecider: Decider<SetBudget, BudgetState, MdfBudgetEvent> = {
  initialState: mdfBudgetInitialState,
  evolve: evolveBudget,
  decide: decideBudget,
};

export function foldBudget(events: readonly RecordedEvent[]): BudgetState {
  let s = mdfBudgetInitialState();
  for (const e of events) if (isRecorded<MdfBudgetEvent>(e, MDF_BUDGET_EVENT_TYPES)) s = evolveBudget(s, e);
  return s;
}

/** The reservation of an allocation in its period's budget, or budget-exceeded / amount-out-of-range. */
export function decideAllocationReservation(state: BudgetState, wanted: { period: string; partnerId: string; fundStreamId: string; amount: Money }): readonly MdfAllocationReserved[] {
  const { currency, amountMinor } = wanted.amount;
  const reserved = state.reserved.get(currency) ?? 0;
  const budget = state.budgets.get(currency);
  if (budget !== undefined && reserved + amountMinor > budget) {
    throw new NamedRuleViolation(
      'budget-exceeded',
      `the ${wanted.period} MDF budget is ${budget} ${currency} minor units and ${reserved} are allocated: at most ${budget - reserved} more, not ${amountMinor}`,
      { budgetMinor: budget, allocatedMinor: reserved, remainingMinor: budget - reserved },
      [{ path: 'amount.amountMinor', message: `must not exceed the ${budget - reserved} left in the budget` }],
    );
  }
  if (reserved + amountMinor > Number.MAX_SAFE_INTEGER) {
    throw new NamedRuleViolation('amount-out-of-range', `the ${currency} allocations of ${wanted.period} would pass 2^53 − 1`, { allocatedMinor: reserved }, [
      { path: 'amount.amountMinor', message: 'would take a reported sum past 2^53 − 1' },
    ]);
  }
  return [{ type: 'MdfAllocationReserved', data: { period: wanted.period, partnerId: wanted.partnerId, fundStreamId: wanted.fundStreamId, amount: { amountMinor, currency } } }];
}
