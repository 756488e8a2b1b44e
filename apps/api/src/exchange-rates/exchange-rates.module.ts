import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ExchangeRatesController } from './exchange-rates.controller.js';
import { ListExchangeRatesHandler } from './exchange-rates.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [ExchangeRatesController],
  providers: [ListExchangeRatesHandler],
})
export class ExchangeRatesModule {}
