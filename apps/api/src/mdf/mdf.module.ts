import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { MdfController } from './mdf.controller.js';
import { GetMdfRequestHandler, ListBudgetsHandler, ListFundsHandler } from './mdf.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [MdfController],
  providers: [ListFundsHandler, ListBudgetsHandler, GetMdfRequestHandler],
})
export class MdfModule {}
