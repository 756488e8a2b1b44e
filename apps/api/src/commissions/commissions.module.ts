import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CommissionPlanController, CommissionsController } from './commissions.controller.js';
import { PayoutsController } from './payouts.controller.js';
import { GetPayoutRunHandler, ListPayoutRunsHandler } from './payouts.handlers.js';
import { CommissionBalancesHandler, GetCommissionPlanHandler, ListCommissionsHandler } from './commissions.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [CommissionPlanController, CommissionsController, PayoutsController],
  providers: [GetCommissionPlanHandler, ListCommissionsHandler, CommissionBalancesHandler, GetPayoutRunHandler, ListPayoutRunsHandler],
})
export class CommissionsModule {}
