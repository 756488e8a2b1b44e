import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger, type ValidationError } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { DomainError, type DomainErrorSlug } from '#libs/kernel/errors.js';
import {
  AppendTooLargeError,
  InvalidPositionError,
  StoreAccessDeniedError,
  StoreUnavailableError,
  StreamDeletedError,
  WrongExpectedVersionError,
} from '#libs/event-store/port.js';
import { NotCaughtUpError } from '#projections/runner/read-models.js';
import { type ProblemBody, ProblemException, type ProblemFieldError, type ProblemSlug, problemBody, PROBLEM_SLUGS, PROBLEM_STATUS } from './problem.js';

const DOMAIN_STATUS: Record<DomainErrorSlug, number> = {
  'not-found': 404,
  'already-exists': 409,
  'rule-violation': 422,
  'registration-conflict': 409,
  'validation-failed': 400,
  forbidden: 403,
  'concurrency-conflict': 409,
  'idempotency-key-reused': 422,
  'unknown-certification': 422,
  'seller-held-by-another-partner': 409,
};

/** Slugs of Nest's HttpExceptions (thrown by pipes, Nest itself, or code that does not know our slugs). */
const HTTP_STATUS_SLUG: Readonly<Record<number, string>> = {
  400: 'validation-failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'rule-violation',
  429: 'too-many-requests',
  503: 'service-unavailable',
};

/**
 * Fastify's own refusals, which reach the filter wrapped by the adapter (`mapException`: an HttpException
 * whose `cause` is the FastifyError) or, for errors Fastify raises outside a route, as they are.
 */
const FASTIFY_CODES: Readonly<Record<string, { slug: ProblemSlug; detail: string } | undefined>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { slug: 'unsupported-media-type', detail: 'Request bodies must be application/json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { slug: 'payload-too-large', detail: 'The request body is larger than the 1 MiB limit.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { slug: 'validation-failed', detail: 'The request body is empty but its Content-Type is application/json.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { slug: 'validation-failed', detail: 'The request body is not valid JSON.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { slug: 'validation-failed', detail: 'The request body does not match its Content-Length.' },
  FST_ERR_BAD_URL: { slug: 'validation-failed', detail: 'The request URL is malformed.' },
  FST_ERR_MAX_PARAM_LENGTH: { slug: 'validation-failed', detail: 'A path parameter is longer than any valid one.' },
  FST_ERR_ASYNC_CONSTRAINT: { slug: 'validation-failed', detail: 'The request could not be routed.' },
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: { slug: 'unsupported-media-type', detail: 'Request bodies must be application/json.' },
};

/** Validation answers stay small even for a 1 MiB body that fails everywhere. */
const MAX_FIELD_ERRORS = 100;

/** The ValidationPipe's `exceptionFactory`: one `{ path, message }` per failed constraint. */
export function validationProblem(errors: readonly ValidationError[]): ProblemException {
  const fieldErrors: ProblemFieldError[] = [];
  let total = 0;
  const visit = (error: ValidationError, parent: string): void => {
    // class-validator reports the element of a validated array under its index, as a property name.
    const path = parent === '' ? String(error.property ?? '') : `${parent}.${String(error.property)}`;
    for (const message of Object.values(error.constraints ?? {})) {
      total++;
      if (fieldErrors.length < MAX_FIELD_ERRORS) fieldErrors.push({ path: path === '' ? '(body)' : path, message: withFullPath(message, error.property, path) });
    }
    for (const child of error.children ?? []) visit(child, path);
  };
  for (const error of errors) visit(error, '');
  const first = fieldErrors[0];
  const detail =
    first === undefined
      ? 'The request is not valid.'
      : total === 1
        ? `${first.message}.`
        : `${total} fields are not valid${total > fieldErrors.length ? ` (the first ${fieldErrors.length} are listed)` : ''}: ${first.message}; …`;
  return ProblemException.validationFailed(detail, fieldErrors);
}

/** class-validator starts messages with the bare property ("domain must be a string"); the path says which one. */
function withFullPath(message: string, property: string, path: string): string {
  if (property && path !== property && message.startsWith(`${property} `)) return `${path}${message.slice(property.length)}`;
  if (property && message.startsWith(`property ${property} `)) return `property ${path}${message.slice(`property ${property}`.length)}`;
  return message;
}

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  name?: unknown;
}

function fastifyCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as FastifyLikeError).code;
    if (typeof code === 'string' && code.startsWith('FST_')) return code;
  }
  return undefined;
}

export interface ResolvedProblem {
  readonly body: ProblemBody;
  readonly headers: Readonly<Record<string, string>>;
  /** Set when the failure is ours, not the client's: it is logged with its stack. */
  readonly internal?: unknown;
}

/** Every error becomes a problem; anything not recognised is a 500 whose details stay in the log. */
export function toProblem(exception: unknown): ResolvedProblem {
  if (exception instanceof ProblemException) return { body: exception.toBody(), headers: exception.headers ?? {} };

  if (exception instanceof DomainError) {
    return { body: problemBody(exception.problemType, DOMAIN_STATUS[exception.slug], exception.message, { errors: exception.errors, extensions: exception.extensions }), headers: {} };
  }
  if (exception instanceof NotCaughtUpError) {
    return {
      body: problemBody('not-caught-up', PROBLEM_STATUS['not-caught-up'], exception.message, { extensions: { minPosition: exception.wanted.toString(), ledgerPosition: exception.reached.toString() } }),
      headers: { 'Retry-After': '1' },
    };
  }
  if (exception instanceof WrongExpectedVersionError) {
    return { body: ProblemException.concurrencyConflict().toBody(), headers: {} };
  }
  // The event store's typed errors (libs/event-store/src/port.ts).
  if (exception instanceof InvalidPositionError) {
    return {
      body: ProblemException.validationFailed(`Position ${exception.position} was not issued by this event store; resume from a position this service sent (or 0).`, [
        { path: 'position', message: 'must be a position this event store issued' },
      ]).toBody(),
      headers: {},
    };
  }
  if (exception instanceof AppendTooLargeError) {
    return { body: problemBody('payload-too-large', 413, `The events this request would record are larger than the event store accepts in one append${exception.maxBytes ? ` (${exception.maxBytes} bytes)` : ''}.`), headers: {} };
  }
  if (exception instanceof StreamDeletedError) {
    // Only an operator deletes in the store: what the request names is gone for good, and `verify` will say so.
    return { body: problemBody('gone', 410, `Stream ${exception.streamId} has been deleted from the event store.`), headers: {}, internal: exception };
  }
  if (exception instanceof StoreAccessDeniedError) {
    // The ledger's own credentials lack a right (a deployment error, not the caller's): unavailable until fixed.
    const p = ProblemException.storeUnavailable('The event store refused the ledger access; the failure has been logged.');
    return { body: p.toBody(), headers: p.headers ?? {}, internal: exception };
  }
  if (exception instanceof StoreUnavailableError) {
    const p = ProblemException.storeUnavailable();
    return { body: p.toBody(), headers: p.headers ?? {}, internal: exception };
  }

  const code = fastifyCode(exception);
  const known = code === undefined ? undefined : FASTIFY_CODES[code];
  if (known) {
    return { body: problemBody(known.slug, PROBLEM_STATUS[known.slug], known.detail), headers: {} };
  }

  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status >= 500 && status !== 503) return internal(exception);
    const response = exception.getResponse();
    // A body that is already a problem (e.g. thrown as `new HttpException({ type, detail }, 503)`) is kept.
    if (isRecord(response) && typeof response.type === 'string' && (PROBLEM_SLUGS as readonly string[]).includes(response.type)) {
      const { type, detail, errors, title: _title, status: _status, ...extensions } = response;
      return {
        body: problemBody(type as string, status, typeof detail === 'string' ? detail : exception.message, {
          errors: Array.isArray(errors) ? (errors as ProblemFieldError[]) : undefined,
          extensions,
        }),
        headers: {},
      };
    }
    const slug = HTTP_STATUS_SLUG[status] ?? kebab(STATUS_CODES[status] ?? `http-${status}`);
    return { body: problemBody(slug, status, httpDetail(response, exception.message)), headers: {} };
  }

  // Client errors of Fastify or its plugins that the adapter did not wrap (a 4xx `statusCode` on an Error).
  const statusCode = exception instanceof Error ? (exception as FastifyLikeError).statusCode : undefined;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const slug = HTTP_STATUS_SLUG[statusCode] ?? kebab(STATUS_CODES[statusCode] ?? `http-${statusCode}`);
    return { body: problemBody(slug, statusCode, STATUS_CODES[statusCode] ?? 'The request was refused.'), headers: {} };
  }

  return internal(exception);
}

function internal(exception: unknown): ResolvedProblem {
  return { body: ProblemException.internalError().toBody(), headers: {}, internal: exception };
}

function httpDetail(response: unknown, fallback: string): string {
  if (typeof response === 'string') return response;
  if (isRecord(response)) {
    const message = response.message;
    if (typeof message === 'string') return message;
    if (Array.isArray(message) && message.every((m) => typeof m === 'string')) return message.join('; ');
  }
  return fallback;
}

function kebab(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the filter needs of a Fastify reply; a raw ServerResponse (middleware errors) is handled too. */
interface ReplyLike {
  code(status: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(payload: string): unknown;
  sent: boolean;
  raw: ServerResponse;
}

interface RequestLike {
  method?: string;
  url?: string;
  raw?: { method?: string; url?: string };
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** The one exception filter of the service (ARCHITECTURE.md, "Style" 3). */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const response = http.getResponse<ReplyLike | ServerResponse>();
    const request = http.getRequest<RequestLike | undefined>();
    const { body, headers, internal } = toProblem(exception);

    if (internal !== undefined) {
      const method = request?.method ?? request?.raw?.method ?? '?';
      const url = request?.raw?.url ?? request?.url ?? '?';
      const err = internal instanceof Error ? internal : new Error(String(internal));
      const message = `${method} ${url} failed with ${body.status}: ${err.name}: ${err.message}`;
      if ((body.status >= 500 && body.type !== 'store-unavailable') || internal instanceof StoreAccessDeniedError || internal instanceof StreamDeletedError) this.logger.error(message, err.stack);
      else this.logger.warn(message);
    }

    const raw = isReply(response) ? response.raw : response;
    if (raw.headersSent || (isReply(response) && response.sent)) {
      // A streamed response (SSE, NDJSON export) that fails midway can only be cut off.
      if (!raw.writableEnded) raw.destroy();
      return;
    }
    const payload = JSON.stringify(body);
    if (isReply(response)) {
      response.code(body.status);
      response.header('Content-Type', PROBLEM_CONTENT_TYPE);
      for (const [name, value] of Object.entries(headers)) response.header(name, value);
      response.send(payload);
      return;
    }
    raw.statusCode = body.status;
    raw.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
    raw.setHeader('Content-Length', Buffer.byteLength(payload));
    for (const [name, value] of Object.entries(headers)) raw.setHeader(name, value);
    raw.end(payload);
  }
}

function isReply(response: ReplyLike | ServerResponse): response is ReplyLike {
  return typeof (response as Partial<ReplyLike>).code === 'function' && 'raw' in response;
}
