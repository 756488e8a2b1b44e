import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TiersController } from './tiers.controller.js';
import { TIER_QUERY_HANDLERS } from './tiers.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [TiersController],
  providers: [...TIER_QUERY_HANDLERS],
})
export class TiersModule {}
