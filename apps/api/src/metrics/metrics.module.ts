import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CommandMetricsInterceptor } from './command-telemetry.js';
import { LedgerGauges } from './ledger-gauges.js';
import { MetricsController } from './metrics.controller.js';
import { TelemetryModule } from './telemetry.module.js';

/**
 * `GET /metrics`, the gauges read at scrape time (they need the ledger core: imported through `withLedger`) and
 * the command interceptor. The registry itself is `TelemetryModule`'s.
 */
@Module({
  imports: [TelemetryModule],
  controllers: [MetricsController],
  providers: [LedgerGauges, { provide: APP_INTERCEPTOR, useClass: CommandMetricsInterceptor }],
})
export class MetricsModule {}
