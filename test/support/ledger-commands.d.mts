import type { CommandOutcome } from '#libs/ledger/context.js';
import type { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import type { Actor } from '#events/envelope.js';

export function ledgerOn(
  file: string,
  now: string,
  killAfterClaim?: string,
): {
  store: SqliteEventStore;
  run(kind: 'enroll' | 'partner' | 'register' | 'allocate' | 'request' | 'program', data: unknown, key?: string, actor?: Actor): Promise<CommandOutcome>;
};
