import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { PartnersController } from './partners.controller.js';
import { GetPartnerHandler, ListPartnersHandler } from './partners.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [PartnersController],
  providers: [GetPartnerHandler, ListPartnersHandler],
})
export class PartnersModule {}
