import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { PartnersController } from './partners.controller.js';
import { EnrollPartnerHandler, GetPartnerHandler, ListPartnersHandler, PartnerCommandHandler } from './partners.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [PartnersController],
  providers: [EnrollPartnerHandler, PartnerCommandHandler, GetPartnerHandler, ListPartnersHandler],
})
export class PartnersModule {}
