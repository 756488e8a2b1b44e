import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TiersController } from './tiers.controller.js';

@Module({
  imports: [CqrsModule],
  controllers: [TiersController],
})
export class TiersModule {}
