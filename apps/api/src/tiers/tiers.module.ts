import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TiersController } from './tiers.controller.js';
import { EvaluateTiersHandler } from './tiers.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [TiersController],
  providers: [EvaluateTiersHandler],
})
export class TiersModule {}
