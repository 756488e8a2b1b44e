import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ValidationPipe } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import type { LedgerConfig } from '#libs/ledger/config.js';
import { cacheValidationMetadata } from '../http/validation-cache.js';
import { PROBLEM_CONTENT_TYPE, ProblemFilter, toProblem, validationProblem } from './problem.filter.js';
import { problemBody, ProblemException } from './problem.js';
import { installSwagger, type SwaggerOptions } from './swagger.js';

/** API.md, "Conventions": bodies over 1 MiB are a 413. */
export const BODY_LIMIT = 1024 * 1024;

/** An incoming `X-Request-Id` is kept only if it cannot smuggle anything into headers or log lines. */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}$/;

/** Nesting deeper than any DTO of the API is refused before validation could exhaust the stack. */
export const MAX_BODY_DEPTH = 32;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Longest path parameter the router accepts: above the longest valid one (stream ids, 300 characters; ids
 * are 128), so that every invalid one reaches validation and gets its 400. find-my-way's default (100) would
 * answer a valid 128-character id with a 414.
 */
export const MAX_PARAM_LENGTH = 512;

export function createFastifyAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    // Behind a proxy, client addresses would come from X-Forwarded-For only if an operator opts in.
    trustProxy: false,
    // Our JSON parser refuses these keys itself (see `parseJsonBody`); these cover any parser Fastify falls back to.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestIdHeader: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A malformed URL (`%E0%A4%A`) or an overlong parameter is refused by the router before any route, filter or
    // hook: without this, Fastify answers it with its own JSON instead of a problem.
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) => {
      const { body, headers } = toProblem(error);
      void reply.code(body.status).header('Content-Type', PROBLEM_CONTENT_TYPE).headers(headers).send(JSON.stringify(body));
    },
    // What Node's HTTP parser refuses before Fastify sees a request (a NUL or another invalid character in a
    // header, a request line and headers over Node's 16 KiB, e.g. a long query string, a timeout): Fastify's
    // default answers these in its own JSON; here they are problems like every other refusal (issue #17).
    clientErrorHandler: answerClientError,
    genReqId: (req: IncomingMessage) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  });
  const fastify = adapter.getInstance();
  // Graceful shutdown: requests in flight when close() starts still get their answer, but on a
  // connection that then closes; otherwise a client's idle keep-alive socket would hold the server open.
  let draining = false;
  fastify.addHook('preClose', (done: () => void) => {
    draining = true;
    done();
  });
  fastify.addHook('onSend', (_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, value?: unknown) => void) => {
    if (draining) void reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    // On the raw response, Fastify merges the header into every reply it sends, errors and 404s included.
    reply.raw.setHeader('X-Request-Id', request.id);
    // pino-http runs as Nest middleware and sees only the raw request: this is how it learns the same id.
    (request.raw as IncomingMessage & { id?: string }).id = request.id;
    done();
  });
  return adapter;
}

/** The raw answer to a request Node's parser refused (exported for its test). */
export function clientErrorResponse(error: Error & { code?: string }): string {
  const [status, reason, type, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'request-header-fields-too-large', 'The request line and headers are larger than the 16 KiB limit (a query string that long is refused too).']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request-timeout', 'The request was not received in time.']
        : [400, 'Bad Request', 'validation-failed', 'The request is not valid HTTP (e.g. a header holds a NUL or another character headers may not carry).'];
  const body = JSON.stringify(problemBody(type, status, detail));
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nConnection: close\r\n\r\n${body}`;
}

function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer (https://nodejs.org/api/http.html#event-clienterror).
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) socket.write(clientErrorResponse(error));
  socket.destroy(error);
}

export type ConfigureAppOptions = SwaggerOptions;

/**
 * Call after `NestFactory.create(AppModule, createFastifyAdapter(), { bufferLogs: true })` and before
 * `listen()`/`init()`: body parsers and hooks can only be changed before Fastify starts.
 */
export function configureApp(app: NestFastifyApplication, _config: LedgerConfig, options: ConfigureAppOptions = {}): OpenAPIObject {
  try {
    app.useLogger(app.get(Logger));
  } catch {
    // Without PlatformModule's logger the app keeps Nest's console logger.
  }
  cacheValidationMetadata();
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => validationProblem(errors),
    }),
  );
  app.useGlobalFilters(new ProblemFilter());
  installBodyParsing(app);
  const document = installSwagger(app, options);
  app.enableShutdownHooks();
  return document;
}

/**
 * JSON only (API.md, "Conventions"). Nest registers its JSON and urlencoded parsers during `init()` unless
 * parsers for those types were registered through `useBodyParser`, which is why both go through it here.
 */
function installBodyParsing(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('text/plain');
  app.useBodyParser('application/json', { bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit: BODY_LIMIT }, (_req, _body, done) => {
    done(ProblemException.unsupportedMediaType(), undefined);
  });
  // Any other type (and a body without a Content-Type) is refused before its body is read.
  fastify.addContentTypeParser('*', (_req, _payload, done) => {
    done(ProblemException.unsupportedMediaType(), undefined);
  });
  // A command without a body (and without a Content-Type) means "no fields", like `{}`.
  fastify.addHook('preValidation', (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    if (request.body === undefined && BODY_METHODS.has(request.method)) request.body = {};
    // The same names as in bodies, for the same reason: `?toString=1` would otherwise vanish in the query DTO
    // instead of being the 400 every other unknown parameter is. Read from the URL itself, since `__proto__`
    // cannot be an own key of the parsed query object.
    const query = request.url.indexOf('?');
    if (query >= 0) {
      for (const name of new URLSearchParams(request.url.slice(query + 1)).keys()) {
        if (FORBIDDEN_KEYS.has(name)) {
          done(ProblemException.validationFailed(`The query parameter "${name}" is not allowed.`, [{ path: name, message: `property ${name} should not exist` }]));
          return;
        }
      }
    }
    done();
  });
}

/**
 * Member names no body may have: those that reach an object's prototype (`__proto__`, `constructor`,
 * `prototype`), and every other name of `Object.prototype` (`toString`, `hasOwnProperty`, ...), which
 * class-transformer drops without a word when it builds a DTO (the instance already "has" them), so the
 * whitelist would never see them and an unknown member would pass instead of being a 400.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)]);

/**
 * Strict JSON object bodies. An empty body is `{}` (clients that always send `Content-Type: application/json`
 * send it on body-less commands too); keys that could reach an object's prototype are refused, as are
 * bodies nested deeper than any DTO, which validation would otherwise recurse through.
 */
export function parseJsonBody(body: Buffer | string): Record<string, unknown> {
  let text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw ProblemException.validationFailed('The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ProblemException.validationFailed('The request body must be a JSON object.');
  }
  const stack: Array<{ node: unknown; path: string; depth: number }> = [{ node: value, path: '', depth: 1 }];
  while (stack.length) {
    const { node, path, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_BODY_DEPTH) {
      throw ProblemException.validationFailed(`The request body is nested more than ${MAX_BODY_DEPTH} levels deep.`, [
        { path: path || '(body)', message: 'nested too deeply' },
      ]);
    }
    for (const key of Object.keys(node)) {
      const child = Array.isArray(node) ? `${path}${path ? '.' : ''}${key}` : path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) {
        throw ProblemException.validationFailed(`The request body contains the forbidden key "${key}".`, [
          { path: child, message: `property ${key} is not allowed` },
        ]);
      }
      stack.push({ node: (node as Record<string, unknown>)[key], path: child, depth: depth + 1 });
    }
  }
  return value as Record<string, unknown>;
}
