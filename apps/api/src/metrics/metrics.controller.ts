import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { EventStore } from '#libs/event-store/port.js';
import { ProjectionRunner } from '#projections/runner/runner.js';
import { measureLag } from '../ledger/readiness.js';
import { CLOCK, EVENT_STORE, type Clock } from '#libs/ledger/tokens.js';
import { Metrics } from './metrics.service.js';

/** Lag counts stop here, so a scrape during a long rebuild stays cheap. */
export const LAG_COUNT_CAP = 100_000;
/** A store that does not answer within this is reported down instead of holding the scrape. */
export const SCRAPE_STORE_TIMEOUT_MS = 2000;

/** `GET /metrics`: Prometheus text format. No `@Allow`: admin keys only (API.md, "Conventions"). */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ProjectionRunner) private readonly runner: ProjectionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format); admin key only' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', schema: { type: 'string' } })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    await this.refresh();
    void reply.header('Content-Type', this.metrics.contentType);
    void reply.header('Cache-Control', 'no-store');
    return this.metrics.render();
  }

  /** The gauges read at scrape time: store reachability, head, and each read model's lag. */
  private async refresh(): Promise<void> {
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
