import type { OpenAPIObject } from '@nestjs/swagger';
import { compileErrors, validate } from '@readme/openapi-parser';
import { removeDir, startApp, type TestApp } from './support/app.js';

type Operation = {
  parameters?: { name: string; in: string; example?: unknown; schema?: Record<string, unknown> }[];
  responses: Record<string, { headers?: Record<string, { required?: boolean }>; content?: Record<string, { schema?: unknown }> }>;
};

/** What the served OpenAPI document promises, for every operation (apps/api/src/platform/swagger.ts). */
describe('the OpenAPI document at /docs-json', () => {
  let t: TestApp;
  let doc: OpenAPIObject;
  const operations: [string, Operation][] = [];

  beforeAll(async () => {
    t = await startApp();
    doc = (await t.request<OpenAPIObject>('GET', '/docs-json', { key: null })).body;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) operations.push([`${method.toUpperCase()} ${path}`, op as Operation]);
    }
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('is a valid OpenAPI document (@readme/openapi-parser: structure, schemas, references)', async () => {
    // The parser dereferences in place: give it a copy.
    const result = await validate(structuredClone(doc) as unknown as Parameters<typeof validate>[0]);
    expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid');
  });

  it('describes bearer API keys, not JWTs', () => {
    expect(doc.components?.securitySchemes?.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.components?.securitySchemes?.bearer).not.toHaveProperty('bearerFormat');
  });

  it('declares Idempotency-Key on every command and Ledger-Position on every query answer', () => {
    const commands = operations.filter(([key]) => /^(POST|PUT) \/v1\//.test(key) && !key.startsWith('POST /v1/audit/'));
    expect(commands.length).toBeGreaterThan(20);
    for (const [key, op] of commands) expect({ key, idempotencyKey: op.parameters?.some((p) => p.name === 'Idempotency-Key' && p.in === 'header') }).toEqual({ key, idempotencyKey: true });
    const queries = operations.filter(([key]) => key.startsWith('GET /v1/') && key !== 'GET /v1/events/stream');
    expect(queries.length).toBeGreaterThan(15);
    for (const [key, op] of queries) expect({ key, ledgerPosition: op.responses['200']?.headers?.['Ledger-Position']?.required }).toEqual({ key, ledgerPosition: true });
  });

  it('names each error status with a problem+json schema, and Retry-After on 429 and 503', () => {
    for (const [key, op] of operations) {
      expect({ key, default: op.responses.default }).toEqual({ key, default: undefined });
      for (const [status, response] of Object.entries(op.responses).filter(([s]) => /^[45]/.test(s))) {
        expect({ key, status, problem: response.content?.['application/problem+json']?.schema !== undefined }).toEqual({ key, status, problem: true });
        if (status === '429' || (status === '503' && !key.startsWith('GET /health'))) {
          expect({ key, status, retryAfter: response.headers?.['Retry-After']?.required }).toEqual({ key, status, retryAfter: true });
        }
      }
      if (!key.startsWith('GET /health')) expect({ key, has401: '401' in op.responses }).toEqual({ key, has401: true });
    }
  });

  it('gives every parameter a schema, and an example where one can be valid (not opaque cursors)', () => {
    for (const [key, op] of operations) {
      for (const p of op.parameters ?? []) {
        expect({ key, p: p.name, schema: p.schema !== undefined }).toEqual({ key, p: p.name, schema: true });
        if (p.name !== 'cursor' && p.name !== 'Last-Event-ID') expect({ key, p: p.name, example: p.example !== undefined }).toEqual({ key, p: p.name, example: true });
      }
    }
    const replay = operations.find(([key]) => key === 'GET /v1/audit/replay')![1];
    expect(replay.parameters?.find((p) => p.name === 'asOf')?.schema).toEqual(expect.objectContaining({ type: 'string' }));
  });

  it('declares the CSV and NDJSON bodies as text', () => {
    const attribution = operations.find(([key]) => key === 'GET /v1/attribution')![1];
    const exported = operations.find(([key]) => key === 'GET /v1/audit/export')![1];
    expect(exported.responses['200']?.content?.['application/x-ndjson']?.schema).toEqual({ type: 'string' });
    // The CSV answer is declared once the report's response type is on its route (@ApiOkResponse + @ApiProduces).
    const csv = attribution.responses['200']?.content?.['text/csv'];
    if (attribution.responses['200']?.content !== undefined) expect(csv?.schema).toEqual({ type: 'string' });
  });
});
