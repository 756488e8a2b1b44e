import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore } from '#libs/event-store/port.js';
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { EsdbEventStore } from '#libs/event-store/esdb/esdb-event-store.js';

export interface StoreSettings {
  readonly store: 'sqlite' | 'esdb';
  readonly dataDir: string;
  readonly esdbConnectionString?: string;
}

export function eventsFile(dataDir: string): string {
  return join(dataDir, 'events.sqlite');
}

export function readModelsFile(dataDir: string): string {
  return join(dataDir, 'read-models.sqlite');
}

/** Opens the configured event store; the data directory also holds the read models in either case. */
export async function openEventStore(s: StoreSettings): Promise<EventStore> {
  mkdirSync(s.dataDir, { recursive: true });
  if (s.store === 'esdb') {
    if (!s.esdbConnectionString) throw new Error('LEDGER_STORE=esdb needs EVENTSTORE_CONNECTION_STRING');
    return EsdbEventStore.connect(s.esdbConnectionString);
  }
  return SqliteEventStore.open(eventsFile(s.dataDir));
}
