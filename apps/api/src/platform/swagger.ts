import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemDetailsDto } from './problem.js';

export interface SwaggerOptions {
  readonly title?: string;
  readonly version?: string;
  readonly description?: string;
}

const PUBLIC_PATH_PREFIXES = ['/health'];

/** The OpenAPI document, with a bearer scheme required everywhere but on the public routes. */
export function buildOpenApiDocument(app: NestFastifyApplication, options: SwaggerOptions = {}): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(options.title ?? 'channel-ledger')
    .setVersion(options.version ?? '1')
    .setDescription(
      options.description ?? 'Event-sourced ledger for channel partner management. Errors are RFC 9457 problem details (application/problem+json).',
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer <key>`' }, 'bearer')
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ProblemDetailsDto] });
  for (const [route, item] of Object.entries(document.paths)) {
    for (const operation of Object.values(item)) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      if (PUBLIC_PATH_PREFIXES.some((p) => route === p || route.startsWith(`${p}/`))) operation.security = [];
      operation.responses.default ??= {
        description: 'Problem details (RFC 9457)',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetailsDto' } } },
      };
    }
  }
  return document;
}

/**
 * `/docs-json` through SwaggerModule, and the UI at `/docs` served here. SwaggerModule's own UI serves its
 * assets with @fastify/static, which requires the ESM-only `content-disposition`: Node loads that, but Jest's
 * CommonJS loader (Node < 24.9) cannot, and Nest then calls `process.exit(1)` — which would take down every
 * test that builds the app.
 */
export function installSwagger(app: NestFastifyApplication, options: SwaggerOptions = {}): OpenAPIObject {
  const document = buildOpenApiDocument(app, options);
  SwaggerModule.setup('docs', app, document, { ui: false, raw: ['json'], jsonDocumentUrl: 'docs-json' });

  const assets = swaggerUiAssetsDir();
  const files: Record<string, string> = {
    'swagger-ui.css': 'text/css; charset=utf-8',
    'index.css': 'text/css; charset=utf-8',
    'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
    'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
    'favicon-32x32.png': 'image/png',
    'favicon-16x16.png': 'image/png',
  };
  const cache = new Map<string, Buffer>();
  const fastify = app.getHttpAdapter().getInstance();
  const page = docsPage(options.title ?? 'channel-ledger');
  const sendPage = (_req: FastifyRequest, reply: FastifyReply) => reply.type('text/html; charset=utf-8').send(page);
  fastify.get('/docs', sendPage);
  fastify.get('/docs/', sendPage);
  for (const [file, type] of Object.entries(files)) {
    fastify.get(`/docs/${file}`, (_req: FastifyRequest, reply: FastifyReply) => {
      let content = cache.get(file);
      if (content === undefined) {
        content = readFileSync(path.join(assets, file));
        cache.set(file, content);
      }
      return reply.type(type).header('Cache-Control', 'public, max-age=3600').send(content);
    });
  }
  return document;
}

function swaggerUiAssetsDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve('swagger-ui-dist/package.json'));
  } catch {
    // Not hoisted: it is @nestjs/swagger's dependency, so resolve it from there.
    const fromSwagger = createRequire(require.resolve('@nestjs/swagger'));
    return path.dirname(fromSwagger.resolve('swagger-ui-dist/package.json'));
  }
}

function docsPage(title: string): string {
  const escaped = title.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>${escaped} — API</title>
    <link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css" />
    <link rel="stylesheet" type="text/css" href="/docs/index.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script>
      window.onload = function () {
        window.ui = SwaggerUIBundle({
          url: '/docs-json',
          dom_id: '#swagger-ui',
          deepLinking: true,
          persistAuthorization: true,
          presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
          layout: 'StandaloneLayout',
        });
      };
    </script>
  </body>
</html>
`;
}
