import { Inject, Injectable } from '@nestjs/common';
import type { EventStore } from '#libs/event-store/port.js';
import { CLOCK, EVENT_STORE, type Clock } from '#libs/ledger/tokens.js';
import { ProjectionRunner } from '#projections/runner/runner.js';
import { measureLag } from '../wiring/readiness.js';
import { Metrics } from './metrics.service.js';

/** Lag counts stop here, so a scrape during a long rebuild stays cheap. */
export const LAG_COUNT_CAP = 100_000;
/** A store that does not answer within this is reported down instead of holding the scrape. */
export const SCRAPE_STORE_TIMEOUT_MS = 2000;

/** The gauges read at scrape time: store reachability, head, and each read model's lag. */
@Injectable()
export class LedgerGauges {
  constructor(
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ProjectionRunner) private readonly runner: ProjectionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async refresh(): Promise<void> {
    const runnerUp = this.runner.error === undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const lag = await Promise.race([
        measureLag(this.store, this.runner, this.clock, LAG_COUNT_CAP),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('event store did not answer')), SCRAPE_STORE_TIMEOUT_MS);
        }),
      ]);
      this.metrics.ledgerState({ storeUp: true, runnerUp, lag });
    } catch {
      this.metrics.ledgerState({ storeUp: false, runnerUp });
    } finally {
      clearTimeout(timer);
    }
  }
}
