import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { eventStoreContract } from '../testing/contract.js';
import { EsdbEventStore } from './esdb-event-store.js';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

// EventStoreDB cannot run on the development machines: the shared contract runs against a live server
// whenever one is configured (`docker compose up eventstore`, or the GitHub workflow's service containers).
// The same contract runs on every machine against the in-memory server (esdb-event-store.spec.ts).
if (connectionString) {
  const admin = EventStoreDBClient.connectionString(connectionString);
  afterAll(() => admin.dispose());
  eventStoreContract('EventStoreDB', async () => EsdbEventStore.connect(connectionString), {
    crossStreamEventIds: false,
    // A soft delete: the events stay until a scavenge, but verify must notice the deletion at once.
    deleteStream: async (streamId) => {
      await admin.deleteStream(streamId);
    },
    writeForeign: async (streamId) => {
      await admin.appendToStream(streamId, jsonEvent({ id: randomUUID(), type: 'NotALedgerEvent', data: { from: 'another program' } }));
    },
  });
} else {
  describe.skip('EventStore contract: EventStoreDB (skipped: EVENTSTORE_CONNECTION_STRING is not set, no server on this machine)', () => {
    it('runs the shared contract suite against a live EventStoreDB', () => undefined);
  });
}
