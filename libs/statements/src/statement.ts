import type { PartnerStatementIssued, StatementEvent } from '#events/statements.js';
import type { Decider } from '#libs/kernel/decider.js';
import { AlreadyExists } from '#libs/kernel/errors.js';

/** A statement's stream `statement-<statementId>`: not issued yet, or issued once and never changed. */
export type StatementState = { readonly status: 'none' } | { readonly status: 'issued'; readonly statement: PartnerStatementIssued['data'] };

/** Issue the statement computed (and signed) by the command handler at its position. */
export interface IssueStatement {
  readonly statement: Omit<PartnerStatementIssued['data'], 'issuedAt'>;
}

export function evolveStatement(_state: StatementState, event: StatementEvent): StatementState {
  return { status: 'issued', statement: event.data };
}

/**
 * A statement id is issued once. Re-issuing it for the same partner and period is a no-op (the statement
 * already issued stands, whatever the log holds now); for another partner or period it is a 409.
 */
export function decideStatement(command: IssueStatement, state: StatementState, now: Date): readonly StatementEvent[] {
  const s = command.statement;
  if (state.status === 'issued') {
    if (state.statement.partnerId === s.partnerId && state.statement.period === s.period) return [];
    throw new AlreadyExists(`statement ${s.statementId} was issued for partner ${state.statement.partnerId} and period ${state.statement.period}`, { statementId: s.statementId });
  }
  return [{ type: 'PartnerStatementIssued', data: { ...s, issuedAt: now.toISOString() } }];
}

export const statementDecider: Decider<IssueStatement, StatementState, StatementEvent> = {
  initialState: () => ({ status: 'none' }),
  evolve: evolveStatement,
  decide: decideStatement,
};
