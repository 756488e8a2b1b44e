import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { Public } from '../platform/auth/access.js';
import { LEDGER_CONFIG, type LedgerConfig } from '#libs/ledger/config.js';
import { asyncApiDocumentFor } from './asyncapi.document.js';

/**
 * The AsyncAPI document of the events `/v1/events/stream` delivers: public like `/docs` (API.md,
 * "Conventions"), and left out of the OpenAPI document like `/docs` and `/docs-json`.
 */
@ApiExcludeController()
@Public()
@SkipThrottle()
@Controller('docs')
export class AsyncApiController {
  constructor(@Inject(LEDGER_CONFIG) private readonly config: LedgerConfig) {}

  @Get('events')
  @Header('Content-Type', 'application/json; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  events(@Req() req: FastifyRequest): string {
    return asyncApiDocumentFor(this.config.publicUrl ?? `${req.protocol}://${req.host}`);
  }
}
