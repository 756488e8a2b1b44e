import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { MdfController } from './mdf.controller.js';
import {
  AllocateMdfHandler,
  ListFundsHandler,
  MdfClaimActionHandler,
  MdfRequestActionHandler,
  MdfStreams,
  RequestMdfHandler,
  SubmitMdfClaimHandler,
} from './mdf.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [MdfController],
  providers: [MdfStreams, AllocateMdfHandler, RequestMdfHandler, MdfRequestActionHandler, SubmitMdfClaimHandler, MdfClaimActionHandler, ListFundsHandler],
})
export class MdfModule {}
