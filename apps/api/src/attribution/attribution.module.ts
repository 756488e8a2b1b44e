import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AttributionReportController, RevenueAttributionsController } from './attribution.controller.js';
import { AttributeRevenueHandler, AttributionReportHandler, GetAttributionHandler, ReverseAttributionHandler } from './attribution.handlers.js';

/** Revenue attribution (finance). Needs `DEAL_DIRECTORY`, which the global DealsModule provides. */
@Module({
  imports: [CqrsModule],
  controllers: [RevenueAttributionsController, AttributionReportController],
  providers: [AttributeRevenueHandler, ReverseAttributionHandler, GetAttributionHandler, AttributionReportHandler],
})
export class AttributionModule {}
