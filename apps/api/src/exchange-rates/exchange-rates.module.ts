import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ExchangeRatesController } from './exchange-rates.controller.js';

@Module({
  imports: [CqrsModule],
  controllers: [ExchangeRatesController],
})
export class ExchangeRatesModule {}
