import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../platform/auth/access.js';

/** From the sources (tests) and from `dist/` (the built service), the document lives in the repository's `events/`. */
const CANDIDATES = ['../../../../events/asyncapi.json', '../../../../../events/asyncapi.json'];

let cached: string | undefined;

export function asyncApiDocumentText(): string {
  if (cached !== undefined) return cached;
  for (const candidate of CANDIDATES) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(file)) {
      cached = readFileSync(file, 'utf8');
      return cached;
    }
  }
  throw new Error('events/asyncapi.json not found: it ships with the service (generate it with `npm run asyncapi`)');
}

/**
 * The AsyncAPI document of the events `/v1/events/stream` delivers: public like `/docs` (API.md,
 * "Conventions"), and left out of the OpenAPI document like `/docs` and `/docs-json`.
 */
@ApiExcludeController()
@Public()
@SkipThrottle()
@Controller('docs')
export class AsyncApiController {
  @Get('events')
  @Header('Content-Type', 'application/json; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  events(): string {
    return asyncApiDocumentText();
  }
}
