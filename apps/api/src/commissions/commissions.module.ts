import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CommissionPlanController, CommissionsController } from './commissions.controller.js';
import { CommissionBalancesHandler, GetCommissionPlanHandler, ListCommissionsHandler } from './commissions.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [CommissionPlanController, CommissionsController],
  providers: [GetCommissionPlanHandler, ListCommissionsHandler, CommissionBalancesHandler],
})
export class CommissionsModule {}
