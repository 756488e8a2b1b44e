import { Global, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DEAL_DIRECTORY } from '../ledger/lookups.js';
import { StreamDealDirectory } from './deal-directory.js';
import { DealExpirationsController, DealsController, RegistrationConflictsController } from './deals.controller.js';
import {
  DealActionHandler,
  ExpireDealsHandler,
  GetDealHandler,
  ListConflictsHandler,
  ListDealsHandler,
  RegisterDealHandler,
} from './deals.handlers.js';

/** Global so that other capabilities (revenue attribution) can inject `DEAL_DIRECTORY`. */
@Global()
@Module({
  imports: [CqrsModule],
  controllers: [DealsController, DealExpirationsController, RegistrationConflictsController],
  providers: [
    StreamDealDirectory,
    { provide: DEAL_DIRECTORY, useExisting: StreamDealDirectory },
    RegisterDealHandler,
    DealActionHandler,
    ExpireDealsHandler,
    GetDealHandler,
    ListDealsHandler,
    ListConflictsHandler,
  ],
  exports: [DEAL_DIRECTORY],
})
export class DealsModule {}
