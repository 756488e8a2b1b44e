import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CustomerAccountsController, DealExpirationsController, DealsController, RegistrationConflictsController } from './deals.controller.js';
import { GetCustomerAccountHandler, GetDealHandler, ListConflictsHandler, ListDealsHandler, RegistrationAnswerHandler } from './deals.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [DealsController, DealExpirationsController, RegistrationConflictsController, CustomerAccountsController],
  providers: [GetDealHandler, ListDealsHandler, ListConflictsHandler, GetCustomerAccountHandler, RegistrationAnswerHandler],
})
export class DealsModule {}
