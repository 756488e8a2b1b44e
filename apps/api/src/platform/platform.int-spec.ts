import 'reflect-metadata';
import { Body, Controller, Get, Module, Param, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Min, ValidateNested } from 'class-validator';
import type { Actor } from '#events/envelope.js';
import { StoreUnavailableError, WrongExpectedVersionError } from '#libs/event-store/port.js';
import { NotFound, RegistrationConflict, RuleViolation } from '#libs/kernel/errors.js';
import { Allow, assertPartnerAccess, CurrentActor, PartnerScoped, Public, visiblePartnerFilter } from './auth/access.js';
import { parseApiKeys } from './auth/api-keys.js';
import { loadConfig } from '#libs/ledger/config.js';
import { READINESS_CHECKS, type ReadinessCheck } from './health.controller.js';
import { BODY_LIMIT, configureApp, createFastifyAdapter } from './http.js';
import { PlatformModule } from './platform.module.js';
import { PROBLEM_SLUGS } from './problem.js';

const KEYS = {
  admin: 'admin-key-0123456789abcdef',
  ops: 'ops-key-0123456789abcdef',
  finance: 'finance-key-0123456789abcdef',
  partner: 'partner-acme-key-0123456789',
  subscriber: 'subscriber-key-0123456789ab',
};

class CustomerDto {
  @IsString()
  @IsNotEmpty()
  name!: string;

  @IsString()
  @Matches(/^[a-z0-9.-]+\.[a-z]{2,}$/, { message: 'domain must be a domain name' })
  domain!: string;

  @IsOptional()
  @IsString()
  country?: string;
}

class LineDto {
  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

class CreateDealDto {
  @IsString()
  @IsNotEmpty()
  dealId!: string;

  // @ValidateNested alone lets a missing object through; @IsObject makes it required.
  @IsObject()
  @ValidateNested()
  @Type(() => CustomerDto)
  customer!: CustomerDto;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => LineDto)
  lines!: LineDto[];
}

class OptionalReasonDto {
  @IsOptional()
  @IsString()
  reason?: string;
}

@Controller('test')
class TestController {
  @Post('deals')
  @Allow('channel-ops')
  create(@Body() body: CreateDealDto, @CurrentActor() actor: Actor) {
    return { actor, isDto: body instanceof CreateDealDto, body };
  }

  @Post('approve')
  @Allow('channel-ops')
  approve(@Body() body: OptionalReasonDto) {
    return { body };
  }

  @Get('partners/:id')
  @Allow('finance')
  @PartnerScoped()
  partner(@Param('id') id: string, @CurrentActor() actor: Actor) {
    assertPartnerAccess(actor, id);
    return { partnerId: id };
  }

  @Get('partners')
  @PartnerScoped()
  partners(@Query('partnerId') partnerId: string | undefined, @CurrentActor() actor: Actor) {
    return { filter: visiblePartnerFilter(actor, partnerId) ?? null };
  }

  @Get('admin-only')
  adminOnly(@CurrentActor() actor: Actor) {
    return { actor };
  }

  @Get('open')
  @Public()
  open(@CurrentActor() actor: Actor | undefined) {
    return { actor: actor ?? null };
  }

  @Get('fail/:kind')
  @Public()
  fail(@Param('kind') kind: string): never {
    switch (kind) {
      case 'not-found':
        throw new NotFound('deal d-1 does not exist');
      case 'rule':
        throw new RuleViolation('cannot activate a terminated partner', { currentStatus: 'terminated', type: 'ignored' });
      case 'conflict':
        throw new RegistrationConflict('customer already has an approved registration', { conflictsWith: ['d-0'] });
      case 'concurrency':
        throw new WrongExpectedVersionError('partner-p1', 3n, 4n);
      case 'store':
        throw new StoreUnavailableError('SQLITE_BUSY at /var/secret/path');
      default:
        throw new Error('secret internal detail at /srv/ledger/db.sqlite');
    }
  }
}

const readiness = { storeOk: true, throwLag: false };
const checks: ReadinessCheck[] = [
  { name: 'store', check: async () => (readiness.storeOk ? { ok: true } : { ok: false, detail: 'ping failed' }) },
  {
    name: 'projections',
    check: async () => {
      if (readiness.throwLag) throw new Error('runner crashed');
      return { ok: true, detail: 'lag 0 events' };
    },
  },
];

const logLines: string[] = [];

@Module({
  imports: [
    PlatformModule.forRoot(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info' }), {
      apiKeys: parseApiKeys(
        JSON.stringify([
          { key: KEYS.admin, role: 'admin', id: 'root' },
          { key: KEYS.ops, role: 'channel-ops', id: 'ops-1' },
          { key: KEYS.finance, role: 'finance' },
          { key: KEYS.partner, role: 'partner', partnerId: 'acme', id: 'acme-portal' },
          { key: KEYS.subscriber, role: 'subscriber' },
        ]),
      ),
      logDestination: { write: (line: string) => void logLines.push(line) },
      readinessChecks: { provide: READINESS_CHECKS, useValue: checks },
    }),
  ],
  controllers: [TestController],
})
class TestAppModule {}

let app: NestFastifyApplication;
let base: string;

beforeAll(async () => {
  app = await NestFactory.create<NestFastifyApplication>(TestAppModule, createFastifyAdapter(), { bufferLogs: true });
  configureApp(app, loadConfig({ NODE_ENV: 'test' }), { title: 'test', version: '0' });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await app?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function call(method: string, path: string, init: { key?: keyof typeof KEYS | string; body?: string; contentType?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== undefined) headers.authorization = `Bearer ${init.key in KEYS ? KEYS[init.key as keyof typeof KEYS] : init.key}`;
  if (init.body !== undefined && init.contentType !== null) headers['content-type'] = init.contentType ?? 'application/json';
  else if (init.contentType) headers['content-type'] = init.contentType;
  const res = await fetch(`${base}${path}`, { method, headers, body: init.body });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the assertions on `text` or on the status say what was expected
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** The documented problem shape, checked on every refusal. */
function expectProblem(a: Answer, status: number, type: string): void {
  expect({ status: a.status, type: a.body.type }).toEqual({ status, type });
  expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(a.body.status).toBe(status);
  expect(typeof a.body.title).toBe('string');
  expect(typeof a.body.detail).toBe('string');
  expect(PROBLEM_SLUGS).toContain(type);
  if (a.body.errors !== undefined) {
    expect(Array.isArray(a.body.errors)).toBe(true);
    for (const e of a.body.errors as unknown[]) expect(e).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
}

const validDeal = {
  dealId: 'd-1',
  customer: { name: 'Acme', domain: 'acme.com' },
  lines: [{ sku: 'A', quantity: 1 }],
};

describe('bodies', () => {
  it('accepts a valid JSON body and hands the handler a DTO instance', async () => {
    const a = await call('POST', '/test/deals', { key: 'ops', body: JSON.stringify(validDeal), contentType: 'application/json; charset=utf-8' });
    expect(a.status).toBe(201);
    expect(a.body).toEqual({ actor: { id: 'ops-1', role: 'channel-ops' }, isDto: true, body: validDeal });
  });

  it('refuses invalid JSON with 400 validation-failed', async () => {
    const a = await call('POST', '/test/deals', { key: 'ops', body: '{"dealId": "d-1",' });
    expectProblem(a, 400, 'validation-failed');
    expect(a.body.detail).toMatch(/not valid JSON/);
  });

  it('refuses a JSON body that is not an object', async () => {
    for (const body of ['[]', '"text"', '42', 'null']) {
      expectProblem(await call('POST', '/test/deals', { key: 'ops', body }), 400, 'validation-failed');
    }
  });

  it('refuses text/plain with 415, with or without a body', async () => {
    expectProblem(await call('POST', '/test/deals', { key: 'ops', body: 'hello', contentType: 'text/plain' }), 415, 'unsupported-media-type');
    expectProblem(await call('POST', '/test/approve', { key: 'ops', contentType: 'text/plain' }), 415, 'unsupported-media-type');
  });

  it('refuses form bodies and bodies without a Content-Type with 415', async () => {
    expectProblem(await call('POST', '/test/approve', { key: 'ops', body: 'reason=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported-media-type');
    expectProblem(await call('POST', '/test/approve', { key: 'ops', body: '{}', contentType: null }), 415, 'unsupported-media-type');
    expectProblem(await call('POST', '/test/approve', { key: 'ops', body: '{}', contentType: 'application/problem+json' }), 415, 'unsupported-media-type');
  });

  it('treats a command without a body and without a Content-Type as {}', async () => {
    const a = await call('POST', '/test/approve', { key: 'ops' });
    expect({ status: a.status, body: a.body }).toEqual({ status: 201, body: { body: {} } });
    const b = await call('POST', '/test/approve', { key: 'ops', body: '' });
    expect({ status: b.status, body: b.body }).toEqual({ status: 201, body: { body: {} } });
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const big = JSON.stringify({ dealId: 'x'.repeat(BODY_LIMIT * 1.5) });
    expectProblem(await call('POST', '/test/deals', { key: 'ops', body: big }), 413, 'payload-too-large');
  });

  it('refuses prototype-pollution keys with 400', async () => {
    const proto = await call('POST', '/test/approve', { key: 'ops', body: '{"reason":"x","__proto__":{"isAdmin":true}}' });
    expectProblem(proto, 400, 'validation-failed');
    expect(proto.body.errors).toEqual([{ path: '__proto__', message: expect.any(String) }]);
    const nested = await call('POST', '/test/deals', { key: 'ops', body: '{"customer":{"constructor":{"prototype":{"x":1}}}}' });
    expectProblem(nested, 400, 'validation-failed');
    expect(nested.body.errors).toEqual([{ path: 'customer.constructor', message: expect.any(String) }]);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('refuses absurdly nested bodies with 400 rather than failing', async () => {
    const deep = `{"reason":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expectProblem(await call('POST', '/test/approve', { key: 'ops', body: deep }), 400, 'validation-failed');
  });
});

describe('validation', () => {
  it('names an unknown property by its path', async () => {
    const a = await call('POST', '/test/deals', { key: 'ops', body: JSON.stringify({ ...validDeal, extra: 1 }) });
    expectProblem(a, 400, 'validation-failed');
    expect(a.body.errors).toEqual([{ path: 'extra', message: 'property extra should not exist' }]);
  });

  it('names nested properties and array elements with dotted paths', async () => {
    const body = {
      dealId: 'd-1',
      customer: { name: 'Acme', domain: 'not a domain', bogus: true },
      lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 0 }],
    };
    const a = await call('POST', '/test/deals', { key: 'ops', body: JSON.stringify(body) });
    expectProblem(a, 400, 'validation-failed');
    const errors = a.body.errors as Array<{ path: string; message: string }>;
    expect(errors.map((e) => e.path).sort()).toEqual(['customer.bogus', 'customer.domain', 'lines.1.quantity']);
    expect(errors.find((e) => e.path === 'customer.domain')?.message).toBe('customer.domain must be a domain name');
  });

  it('reports missing required fields', async () => {
    const a = await call('POST', '/test/deals', { key: 'ops', body: '{}' });
    expectProblem(a, 400, 'validation-failed');
    const paths = (a.body.errors as Array<{ path: string }>).map((e) => e.path);
    expect(new Set(paths)).toEqual(new Set(['dealId', 'customer', 'lines']));
  });
});

describe('auth', () => {
  it('answers 401 with a Bearer challenge without a key', async () => {
    const a = await call('GET', '/test/admin-only');
    expectProblem(a, 401, 'unauthorized');
    expect(a.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers 401 for an unknown key and for a malformed Authorization header', async () => {
    const unknown = await call('GET', '/test/admin-only', { key: 'not-a-configured-key-123456' });
    expectProblem(unknown, 401, 'unauthorized');
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(unknown.text).not.toContain('not-a-configured-key-123456');
    expectProblem(await call('GET', '/test/admin-only', { headers: { authorization: `Basic ${KEYS.admin}` } }), 401, 'unauthorized');
  });

  it('answers 403 to a known key without the right', async () => {
    expectProblem(await call('GET', '/test/admin-only', { key: 'ops' }), 403, 'forbidden');
    expectProblem(await call('POST', '/test/deals', { key: 'finance', body: JSON.stringify(validDeal) }), 403, 'forbidden');
    expectProblem(await call('POST', '/test/deals', { key: 'subscriber', body: JSON.stringify(validDeal) }), 403, 'forbidden');
  });

  it('lets admin call everything, with its actor', async () => {
    const a = await call('GET', '/test/admin-only', { key: 'admin' });
    expect({ status: a.status, body: a.body }).toEqual({ status: 200, body: { actor: { id: 'root', role: 'admin' } } });
    expect((await call('POST', '/test/deals', { key: 'admin', body: JSON.stringify(validDeal) })).status).toBe(201);
  });

  it('refuses a partner key on a route not marked @PartnerScoped, even one open to other roles', async () => {
    expectProblem(await call('POST', '/test/deals', { key: 'partner', body: JSON.stringify(validDeal) }), 403, 'forbidden');
    expectProblem(await call('GET', '/test/admin-only', { key: 'partner' }), 403, 'forbidden');
  });

  it('lets a partner key read its own partner only', async () => {
    const own = await call('GET', '/test/partners/acme', { key: 'partner' });
    expect({ status: own.status, body: own.body }).toEqual({ status: 200, body: { partnerId: 'acme' } });
    expectProblem(await call('GET', '/test/partners/globex', { key: 'partner' }), 403, 'forbidden');
    expect((await call('GET', '/test/partners/globex', { key: 'finance' })).status).toBe(200);
  });

  it('restricts a partner key’s lists to its own partner and refuses naming another', async () => {
    expect((await call('GET', '/test/partners', { key: 'partner' })).body).toEqual({ filter: 'acme' });
    expect((await call('GET', '/test/partners?partnerId=acme', { key: 'partner' })).body).toEqual({ filter: 'acme' });
    expectProblem(await call('GET', '/test/partners?partnerId=globex', { key: 'partner' }), 403, 'forbidden');
    expect((await call('GET', '/test/partners?partnerId=globex', { key: 'admin' })).body).toEqual({ filter: 'globex' });
    expect((await call('GET', '/test/partners', { key: 'admin' })).body).toEqual({ filter: null });
  });

  it('lets @Public routes answer without a key, and still knows a valid key', async () => {
    expect((await call('GET', '/test/open')).body).toEqual({ actor: null });
    expect((await call('GET', '/test/open', { key: 'partner' })).body).toEqual({ actor: { id: 'acme-portal', role: 'partner', partnerId: 'acme' } });
  });
});

describe('errors', () => {
  it('answers an unknown route with a 404 problem, key or not', async () => {
    expectProblem(await call('GET', '/nope'), 404, 'not-found');
    expectProblem(await call('POST', '/nope', { key: 'admin', body: '{}' }), 404, 'not-found');
  });

  it('maps domain errors by slug, with their extensions but never over the core members', async () => {
    expectProblem(await call('GET', '/test/fail/not-found'), 404, 'not-found');
    const rule = await call('GET', '/test/fail/rule');
    expectProblem(rule, 422, 'rule-violation');
    expect(rule.body.currentStatus).toBe('terminated');
    const conflict = await call('GET', '/test/fail/conflict');
    expectProblem(conflict, 409, 'registration-conflict');
    expect(conflict.body.conflictsWith).toEqual(['d-0']);
  });

  it('maps store errors', async () => {
    expectProblem(await call('GET', '/test/fail/concurrency'), 409, 'concurrency-conflict');
    const store = await call('GET', '/test/fail/store');
    expect(store.status).toBe(503);
    expect(store.body.type).toBe('store-unavailable');
    expect(store.text).not.toContain('/var/secret');
  });

  it('answers anything unexpected with a generic 500 that leaks nothing', async () => {
    const a = await call('GET', '/test/fail/boom');
    expect(a.status).toBe(500);
    expect(a.body.type).toBe('internal-error');
    expect(a.text).not.toContain('secret');
    expect(a.text).not.toContain('/srv/ledger');
  });
});

describe('request ids and logs', () => {
  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const kept = await call('GET', '/health', { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-abc.123');
    const replaced = await call('GET', '/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const errored = await call('GET', '/nope', { headers: { 'x-request-id': 'trace-404' } });
    expect(errored.headers.get('x-request-id')).toBe('trace-404');
  });

  it('logs JSON lines carrying the request id, with the key redacted', async () => {
    await call('GET', '/test/admin-only', { key: 'admin', headers: { 'x-request-id': 'trace-log-1' } });
    await new Promise((r) => setTimeout(r, 50));
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.reqId === 'trace-log-1');
    expect(mine.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain(KEYS.admin);
    const completed = mine.find((l) => l.req !== undefined) as { req: { headers: Record<string, string> } } | undefined;
    expect(completed?.req.headers.authorization).toBe('[redacted]');
  });

  it('does not log health probes', async () => {
    await call('GET', '/health', { headers: { 'x-request-id': 'trace-probe' } });
    await new Promise((r) => setTimeout(r, 50));
    expect(logLines.filter((l) => l.includes('trace-probe'))).toEqual([]);
  });
});

describe('operations', () => {
  it('answers liveness without a key', async () => {
    const a = await call('GET', '/health');
    expect({ status: a.status, body: a.body }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('answers readiness from the app’s checks', async () => {
    readiness.storeOk = true;
    readiness.throwLag = false;
    const ok = await call('GET', '/health/ready');
    expect({ status: ok.status, body: ok.body }).toEqual({
      status: 200,
      body: { status: 'ready', checks: { store: { ok: true }, projections: { ok: true, detail: 'lag 0 events' } } },
    });
  });

  it('answers 503 not-ready naming the failed checks, a throwing check included', async () => {
    readiness.storeOk = false;
    readiness.throwLag = true;
    try {
      const a = await call('GET', '/health/ready');
      expectProblem(a, 503, 'not-ready');
      expect(a.body.detail).toMatch(/store \(ping failed\)/);
      expect(a.body.detail).toMatch(/projections \(runner crashed\)/);
    } finally {
      readiness.storeOk = true;
      readiness.throwLag = false;
    }
  });

  it('serves the OpenAPI document and the Swagger UI without a key', async () => {
    const doc = await call('GET', '/docs-json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const components = doc.body.components as { securitySchemes: Record<string, { scheme: string }>; schemas: Record<string, unknown> };
    expect(components.securitySchemes.bearer?.scheme).toBe('bearer');
    expect(Object.keys(components.schemas)).toContain('ProblemDetailsDto');
    const paths = doc.body.paths as Record<string, Record<string, { security?: unknown[] }>>;
    expect(paths['/health']?.get?.security).toEqual([]);
    expect(Object.keys(paths)).toContain('/test/deals');
    const ui = await call('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
  });
});
