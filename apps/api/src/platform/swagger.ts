import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, type ParameterObject, type ResponseObject, type SchemaObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_SLUGS, PROBLEM_STATUS, ProblemDetailsDto, type ProblemSlug, problemTitle } from './problem.js';

export interface SwaggerOptions {
  readonly title?: string;
  readonly version?: string;
  readonly description?: string;
}

const PUBLIC_PATH_PREFIXES = ['/health'];

const PROBLEM_SCHEMA = { $ref: '#/components/schemas/ProblemDetailsDto' };
const POSITION_SCHEMA = { type: 'string', pattern: '^[0-9]{1,20}$', example: '42' };

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
type Parameter = ParameterObject;

/**
 * Example values for parameters that declare none, by name (path ids by the collection they name). Commands'
 * and queries' own DTOs win where they carry an `example`.
 */
const PARAMETER_EXAMPLES: Record<string, unknown> = {
  partnerId: 'P-1001',
  dealId: 'D-2001',
  streamId: 'partner-P-1001',
  minPosition: '0',
  fromPosition: '0',
  position: '1',
  limit: 100,
  asOf: '2026-03-31',
  from: '2026-01-01',
  to: '2026-12-31',
  period: '2026-Q1',
  currency: 'EUR',
  listPriceMinor: 100000,
  customer: 'contoso.example',
  customerKey: 'contoso.com',
  sellerId: 'S-1',
  certification: 'Sales Professional',
  name: 'sales-professional',
  externalRef: 'OPP-0042',
  size: '1000',
  at: '2026-03-31',
  knownAt: '2026-04-30T00:00:00Z',
  projection: 'attribution',
};
const PATH_ID_EXAMPLES: Record<string, string> = {
  partners: 'P-1001',
  deals: 'D-2001',
  requests: 'MR-3001',
  claims: 'MC-4001',
  'revenue-attributions': 'RA-5001',
  payouts: 'PO-2026-Q1',
  statements: 'ST-2026-Q1-P-1001',
};

/** The problem statuses and their slugs, from problem.ts: one place says which slug answers with which status. */
function problemsByStatus(): Map<number, ProblemSlug[]> {
  const byStatus = new Map<number, ProblemSlug[]>();
  for (const slug of PROBLEM_SLUGS) {
    const status = PROBLEM_STATUS[slug];
    byStatus.set(status, [...(byStatus.get(status) ?? []), slug]);
  }
  return byStatus;
}

const RETRY_AFTER = { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 }, required: true };

function problemResponse(status: number, slugs: readonly ProblemSlug[], headers?: Record<string, unknown>): Record<string, unknown> {
  const examples = Object.fromEntries(
    slugs.map((slug) => [slug, { value: { type: slug, title: problemTitle(slug), status, detail: `Example: ${problemTitle(slug).toLowerCase()}.` } }]),
  );
  return {
    description: `Problem details (RFC 9457): ${slugs.map((s) => `\`${s}\``).join(', ')}`,
    ...(headers ? { headers } : {}),
    content: { 'application/problem+json': { schema: PROBLEM_SCHEMA, examples } },
  };
}

/**
 * The statuses an operation can answer besides its own, from what its route is: a key-protected route (401, 403,
 * 429, 503 while the store is unreachable), parameters or a body (400), path ids (404), a body (413, 415), a
 * command (404 for what it names, 409, 422). Slugs per status come from problem.ts.
 */
function errorStatuses(route: string, method: string, operation: Operation, isPublic: boolean): Map<number, ProblemSlug[]> {
  const all = problemsByStatus();
  const pick = (status: number, only?: ProblemSlug[]) => [status, only ?? all.get(status) ?? []] as const;
  const out = new Map<number, ProblemSlug[]>();
  const params = (operation.parameters ?? []) as Parameter[];
  const hasBody = operation.requestBody !== undefined;
  const isCommand = isCommandOperation(route, method);
  if (!isPublic) {
    out.set(...pick(401));
    out.set(...pick(403));
    out.set(...pick(429));
    out.set(...pick(503, params.some((p) => p.name === 'minPosition') ? ['not-caught-up', 'store-unavailable'] : ['store-unavailable']));
  }
  if (params.length > 0 || hasBody) out.set(...pick(400));
  // The replay answers what the replayed query answers, a partner or deal it does not know included; a proof
  // names an event position or tree size the log may not have.
  if (params.some((p) => p.in === 'path') || isCommand || route === '/v1/audit/replay' || route.startsWith('/v1/audit/proofs/')) out.set(...pick(404));
  if (hasBody) {
    out.set(...pick(413));
    out.set(...pick(415));
  }
  if (isCommand) {
    out.set(...pick(409));
    out.set(...pick(422));
  }
  return out;
}

/** POST and PUT append events, except the audit's verifications, which only read. */
function isCommandOperation(route: string, method: string): boolean {
  return (method === 'post' || method === 'put') && !route.startsWith('/v1/audit/');
}

function exampleFor(route: string, p: Parameter): unknown {
  const schema = (p.schema ?? {}) as SchemaObject;
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (p.in === 'path' && p.name === 'id') {
    const segments = route.split('/');
    const collection = segments[segments.indexOf(`{${p.name}}`) - 1] ?? '';
    return PATH_ID_EXAMPLES[collection];
  }
  return PARAMETER_EXAMPLES[p.name];
}

/** Parameters: a schema for each (an untyped `@ApiQuery` has none), and an example. */
function completeParameters(route: string, operation: Operation): void {
  for (const p of (operation.parameters ?? []) as Parameter[]) {
    p.schema ??= { type: 'string' };
    // An `@ApiQuery` without a type (the replay's `asOf`) gets a schema with no type: query values are strings.
    const schema = p.schema as SchemaObject & { $ref?: string };
    if (schema.type === undefined && schema.$ref === undefined && !schema.allOf && !schema.oneOf && !schema.anyOf) schema.type = 'string';
    const example = p.example ?? exampleFor(route, p);
    if (example !== undefined) {
      p.example = example;
      (p.schema as SchemaObject).example ??= example;
    }
  }
}


/**
 * An example of a schema built from its parts' own examples (DTO `example`s, else `default`, first `enum`
 * value): what a contract tester sends as the request body. Optional members without an example are left
 * out; a required string without one gets a placeholder.
 */
function exampleOf(schema: SchemaObject & { $ref?: string }, document: OpenAPIObject, required = true, depth = 0): unknown {
  if (depth > 8) return undefined;
  if (schema.$ref !== undefined) {
    const target = document.components?.schemas?.[schema.$ref.split('/').pop()!] as SchemaObject | undefined;
    return target === undefined ? undefined : exampleOf(target, document, required, depth + 1);
  }
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.allOf?.length === 1) return exampleOf(schema.allOf[0] as SchemaObject, document, required, depth + 1);
  if (schema.type === 'array' && schema.items !== undefined) {
    const item = exampleOf(schema.items as SchemaObject, document, true, depth + 1);
    return item === undefined ? (required ? [] : undefined) : [item];
  }
  if (schema.type === 'object' || schema.properties !== undefined) {
    const out: Record<string, unknown> = {};
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      const isRequired = schema.required?.includes(name) ?? false;
      const value = exampleOf(property as SchemaObject, document, isRequired, depth + 1);
      if (value !== undefined) out[name] = value;
    }
    return out;
  }
  if (!required) return undefined;
  if (schema.type === 'string') return 'Example';
  if (schema.type === 'integer' || schema.type === 'number') return schema.minimum ?? 1;
  if (schema.type === 'boolean') return false;
  return undefined;
}

/** The OpenAPI document, with a bearer scheme required everywhere but on the public routes. */
export function buildOpenApiDocument(app: NestFastifyApplication, options: SwaggerOptions = {}): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(options.title ?? 'channel-ledger')
    .setVersion(options.version ?? '1')
    .setDescription(
      options.description ??
        'Event-sourced ledger for channel partner management. Errors are RFC 9457 problem details (application/problem+json). ' +
          'Commands (POST, PUT) take an optional `Idempotency-Key`; every query answers with `Ledger-Position` and takes `minPosition`.',
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An opaque API key (not a JWT): `Authorization: Bearer <key>`' }, 'bearer')
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ProblemDetailsDto] });
  // Nest's addBearerAuth() defaults bearerFormat to JWT; the keys are opaque strings.
  const scheme = document.components?.securitySchemes?.bearer as { bearerFormat?: string } | undefined;
  if (scheme) delete scheme.bearerFormat;
  for (const [route, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, Operation][]) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      const isPublic = PUBLIC_PATH_PREFIXES.some((p) => route === p || route.startsWith(`${p}/`));
      if (isPublic) operation.security = [];
      completeParameters(route, operation);
      if (isCommandOperation(route, method)) {
        operation.parameters = [
          ...(operation.parameters ?? []),
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description: 'Makes the command safe to retry: the same key with the same body answers the first response and appends nothing; with another body, 422 `idempotency-key-reused`.',
            schema: { type: 'string', minLength: 1, maxLength: 200, example: '7c4a8d09-ca37-4c1f-9f1e-2a36f2a1c0de' },
            example: '7c4a8d09-ca37-4c1f-9f1e-2a36f2a1c0de',
          },
        ];
      }
      const body = operation.requestBody as { content?: Record<string, { schema?: SchemaObject; example?: unknown }> } | undefined;
      for (const media of Object.values(body?.content ?? {})) {
        if (media.schema !== undefined && media.example === undefined) media.example = exampleOf(media.schema, document);
      }
      const responses = operation.responses as Record<string, ResponseObject>;
      delete responses.default;
      if (method === 'get' && route.startsWith('/v1/')) {
        for (const [status, response] of Object.entries(responses)) {
          if (!status.startsWith('2') || response.content?.['text/event-stream'] !== undefined) continue;
          response.headers = {
            ...response.headers,
            'Ledger-Position': { description: 'The log position the answer reflects (the read model, or the log itself for /v1/audit)', required: true, schema: POSITION_SCHEMA },
          };
        }
      }
      for (const [status, response] of Object.entries(responses)) {
        if (!status.startsWith('2')) continue;
        // `@ApiProduces` repeats the JSON schema under every media type: a CSV or NDJSON body is text.
        for (const [mediaType, media] of Object.entries(response.content ?? {})) {
          if (!/[/+]json$/.test(mediaType)) media.schema = { type: 'string' };
        }
      }
      const errors = errorStatuses(route, method, operation, isPublic);
      // Statuses a route declares itself (e.g. /health/ready's 503) are problems too.
      for (const status of Object.keys(responses).filter((s) => /^[45]/.test(s))) {
        const code = Number(status);
        if (!errors.has(code)) errors.set(code, problemsByStatus().get(code) ?? []);
      }
      for (const [status, slugs] of errors) {
        const key = String(status);
        const headers: Record<string, unknown> = {};
        if (status === 401) headers['WWW-Authenticate'] = { description: 'The Bearer challenge', schema: { type: 'string' }, required: true };
        if (status === 429 || (status === 503 && !isPublic)) headers['Retry-After'] = RETRY_AFTER;
        const described = responses[key]?.description;
        responses[key] = { ...problemResponse(status, slugs, Object.keys(headers).length ? headers : undefined), ...(described ? { description: described } : {}) } as ResponseObject;
      }
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
