import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The OpenAPI document as a contract: every answer the in-process service sends during the end-to-end suite is
 * recorded (a Fastify `onSend` hook, so requests made with plain `fetch` are seen too) and, when the app closes,
 * checked against the document the service itself serves at `/docs-json`.
 *
 * Violations are written per test file to `reports/contract/fragments/`; `test/support/contract-report.mjs`
 * (Jest's global teardown) merges them into `reports/contract/violations.json` and `violations.md`, grouped by
 * route and status. A violation fails the suite (the `close()` of the app that saw it throws); `CONTRACT_STRICT=0`
 * only reports them (to survey a large change before fixing the document).
 */

export const CONTRACT_REPORT_DIR = join(process.cwd(), 'reports', 'contract');
export const CONTRACT_STRICT = process.env.CONTRACT_STRICT !== '0' && process.env.CONTRACT_STRICT !== 'false';

/** One answer the service sent. */
export interface Exchange {
  readonly method: string;
  /** The OpenAPI path template of the route that answered (`/v1/partners/{id}`), or undefined when none did. */
  readonly route: string | undefined;
  readonly url: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as sent; undefined for a streamed one (NDJSON export, SSE), whose media type alone is checked. */
  readonly body: string | undefined;
}

export type ViolationKind = 'undocumented-route' | 'undocumented-status' | 'undocumented-content-type' | 'body-mismatch' | 'missing-header';

export interface Violation {
  /** `METHOD /path/{template} status`. */
  readonly key: string;
  readonly kind: ViolationKind;
  readonly message: string;
  readonly url: string;
}

/** Paths the document does not describe on purpose: the document itself and its UI. */
const OUTSIDE_THE_DOCUMENT = [/^\/docs(?:[/-]|$)/];

/** Records every answer `app` sends; install before `listen()` (Fastify refuses hooks once started). */
export function recordExchanges(app: NestFastifyApplication): Exchange[] {
  const exchanges: Exchange[] = [];
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, value?: unknown) => void) => {
    const pattern = request.routeOptions?.url;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    let body: string | undefined;
    if (typeof payload === 'string') body = payload;
    else if (Buffer.isBuffer(payload)) body = payload.toString('utf8');
    else if (payload === null || payload === undefined) body = '';
    exchanges.push({
      method: request.method,
      route: pattern === undefined ? undefined : pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
      url: request.url,
      status: reply.statusCode,
      headers,
      body,
    });
    done(null, payload);
  });
  return exchanges;
}

type Schema = Record<string, unknown>;
interface MediaTypeObject {
  schema?: Schema;
}
interface ResponseObject {
  content?: Record<string, MediaTypeObject>;
  headers?: Record<string, { required?: boolean }>;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Checks exchanges against one OpenAPI 3.0 document. */
export class ContractValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenAPIObject) {
    // strict: false — OpenAPI schemas carry `example`, `xml`, `externalDocs`, which are not JSON Schema keywords.
    this.ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
    addFormats(this.ajv);
    for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) this.ajv.addFormat(f, true);
  }

  check(ex: Exchange): Violation[] {
    if (ex.method === 'HEAD' || ex.method === 'OPTIONS') return [];
    const path = ex.url.split('?')[0]!;
    if (OUTSIDE_THE_DOCUMENT.some((re) => re.test(path))) return [];
    // A request no route matched (an unknown path) is answered by the router, not by an operation.
    if (ex.route === undefined || ex.route === '*' || ex.route.endsWith('/*')) return [];
    const key = `${ex.method} ${ex.route} ${ex.status}`;
    const violation = (kind: ViolationKind, message: string): Violation => ({ key, kind, message, url: ex.url });

    const operation = (this.document.paths[ex.route] as Record<string, { responses?: Record<string, ResponseObject> }> | undefined)?.[ex.method.toLowerCase()];
    if (operation === undefined) return [violation('undocumented-route', `${ex.method} ${ex.route} is not in the document`)];
    const responses = operation.responses ?? {};
    const documented = responses[String(ex.status)] ?? responses[`${String(ex.status)[0]}XX`];
    // `default` documents no particular status: an answer must be named to be a contract.
    if (documented === undefined) return [violation('undocumented-status', `status ${ex.status} is not documented (documented: ${Object.keys(responses).join(', ')})`)];

    const out: Violation[] = [];
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      if (header.required === true && ex.headers[name.toLowerCase()] === undefined) out.push(violation('missing-header', `required header ${name} is absent`));
    }
    const hasBody = ex.body === undefined || ex.body.length > 0;
    if (!hasBody) return out;
    const mediaType = (ex.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const content = documented.content ?? {};
    const match = content[mediaType] ?? content[`${mediaType.split('/')[0]}/*`] ?? content['*/*'];
    if (match === undefined) {
      const listed = Object.keys(content);
      out.push(violation('undocumented-content-type', `${mediaType || 'a body without Content-Type'} is not documented (documented: ${listed.length ? listed.join(', ') : 'no body'})`));
      return out;
    }
    if (match.schema === undefined || ex.body === undefined || !/[/+]json$/.test(mediaType)) return out;
    let value: unknown;
    try {
      value = JSON.parse(ex.body);
    } catch {
      out.push(violation('body-mismatch', `the ${mediaType} body is not JSON`));
      return out;
    }
    const validate = this.validatorFor(`${ex.method} ${ex.route} ${ex.status} ${mediaType}`, match.schema);
    if (!validate(value)) {
      const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
      out.push(violation('body-mismatch', errors.join('; ')));
    }
    return out;
  }

  private validatorFor(id: string, schema: Schema): ValidateFunction {
    let validate = this.compiled.get(id);
    if (validate === undefined) {
      // `#/components/...` references resolve against this wrapper's root, which carries the document's components.
      validate = this.ajv.compile({ allOf: [schema], components: this.document.components ?? {} });
      this.compiled.set(id, validate);
    }
    return validate;
  }
}

let fragmentCounter = 0;

/** Checks what one app answered and writes its violations as a report fragment; returns them. */
export function checkAndReport(document: OpenAPIObject, exchanges: readonly Exchange[], testPath: string | undefined): Violation[] {
  const validator = new ContractValidator(document);
  const violations = exchanges.flatMap((ex) => validator.check(ex));
  const dir = join(CONTRACT_REPORT_DIR, 'fragments');
  mkdirSync(dir, { recursive: true });
  const name = `${basename(testPath ?? 'unknown')}-${process.pid}-${++fragmentCounter}.json`;
  writeFileSync(join(dir, name), JSON.stringify({ testPath, checked: exchanges.length, violations }, null, 1));
  return violations;
}

export function summarize(violations: readonly Violation[]): string {
  const byKey = new Map<string, Set<string>>();
  for (const v of violations) {
    const set = byKey.get(v.key) ?? new Set<string>();
    set.add(`${v.kind}: ${v.message}`);
    byKey.set(v.key, set);
  }
  return [...byKey.entries()].map(([key, msgs]) => `${key}\n${[...msgs].slice(0, 3).map((m) => `  - ${m}`).join('\n')}`).join('\n');
}
