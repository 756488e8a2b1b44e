import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AttributionReportController, RevenueAttributionsController } from './attribution.controller.js';
import { AttributionReportHandler, GetAttributionHandler } from './attribution.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [AttributionReportController, RevenueAttributionsController],
  providers: [AttributionReportHandler, GetAttributionHandler],
})
export class AttributionModule {}
