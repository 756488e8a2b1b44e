import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DealExpirationsController, DealsController, RegistrationConflictsController } from './deals.controller.js';
import { GetDealHandler, ListConflictsHandler, ListDealsHandler } from './deals.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [DealsController, DealExpirationsController, RegistrationConflictsController],
  providers: [GetDealHandler, ListDealsHandler, ListConflictsHandler],
})
export class DealsModule {}
