import { Module } from '@nestjs/common';
import { TelemetryModule } from '../metrics/telemetry.module.js';
import { AsyncApiController } from './asyncapi.controller.js';
import { EventFeed } from './event-feed.js';
import { EventStreams } from './event-streams.js';
import { SubscriptionsController } from './subscriptions.controller.js';

/** `/v1/events/stream` (SSE) and the AsyncAPI document at `/docs/events` (wiring only). */
@Module({
  imports: [TelemetryModule],
  controllers: [SubscriptionsController, AsyncApiController],
  providers: [EventStreams, EventFeed],
  exports: [EventStreams],
})
export class SubscriptionsModule {}
