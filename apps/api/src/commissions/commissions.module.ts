import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CommissionPlanController } from './commissions.controller.js';
import { GetCommissionPlanHandler } from './commissions.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [CommissionPlanController],
  providers: [GetCommissionPlanHandler],
})
export class CommissionsModule {}
