import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { LedgerGauges } from './ledger-gauges.js';
import { Metrics } from './metrics.service.js';

/** `GET /metrics`: Prometheus text format. No `@Allow`: admin keys only (API.md, "Conventions"). */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(LedgerGauges) private readonly gauges: LedgerGauges,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format); admin key only' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', schema: { type: 'string' } })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    await this.gauges.refresh();
    void reply.header('Content-Type', this.metrics.contentType);
    void reply.header('Cache-Control', 'no-store');
    return this.metrics.render();
  }
}
