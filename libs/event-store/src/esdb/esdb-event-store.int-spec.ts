import { eventStoreContract } from '../testing/contract.js';
import { EsdbEventStore } from './esdb-event-store.js';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

// EventStoreDB cannot run on the development machines: the shared contract runs against a live server
// whenever one is configured (`docker compose up eventstore`, or the GitHub workflow's service container).
if (connectionString) {
  eventStoreContract('EventStoreDB', async () => EsdbEventStore.connect(connectionString));
} else {
  describe.skip('EventStore contract: EventStoreDB (skipped: EVENTSTORE_CONNECTION_STRING is not set, no server on this machine)', () => {
    it('runs the shared contract suite against a live EventStoreDB', () => undefined);
  });
}
