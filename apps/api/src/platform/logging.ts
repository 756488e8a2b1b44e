import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type DynamicModule, RequestMethod } from '@nestjs/common';
import { LoggerModule, type Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { LedgerConfig } from '#libs/ledger/config.js';

/**
 * Keys must never reach a log line: the Authorization header, and any field named like a key in a logged
 * object (a key entry, a request body someone chose to log).
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'key',
  'apiKey',
  '*.key',
  '*.apiKey',
  '*.*.key',
  '*.*.apiKey',
];

/** Probes hit these every few seconds; a line per probe would drown the log. */
function isQuietPath(url: string | undefined): boolean {
  return url === '/health' || url?.startsWith('/health/') === true || url?.startsWith('/health?') === true;
}

/** Prometheus scrapes every few seconds too: only a refused or failed scrape is worth a line. */
function isScrape(url: string | undefined): boolean {
  return url === '/metrics' || url?.startsWith('/metrics?') === true;
}

/** Query parameters a client might put a key in (the key belongs in the Authorization header). */
const SECRET_QUERY_PARAMS = /^(api[-_]?key|key|access[-_]?token|token|auth|authorization|password|secret)$/i;

/** The logged URL with the values of such parameters replaced: `req.url` carries the raw query string. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      let name = eq < 0 ? pair : pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // A malformed escape is matched as written.
      }
      return eq >= 0 && SECRET_QUERY_PARAMS.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

/** pino-http's request serializer, after the standard one: the URL and the parsed query without credentials. */
function redactRequest(req: { url?: unknown; query?: unknown }): object {
  const query =
    typeof req.query === 'object' && req.query !== null
      ? Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, SECRET_QUERY_PARAMS.test(k) ? '[redacted]' : (v as unknown)]))
      : req.query;
  // Assigned on the serialized copy: the request's own `query` object is left alone.
  return Object.assign(req, { query, ...(typeof req.url === 'string' ? { url: redactUrl(req.url) } : {}) });
}

/**
 * The nestjs-pino parameters: JSON lines at the configured level, every line of a request carrying the
 * request id (`reqId`, the id Fastify assigned from `X-Request-Id`, see http.ts), keys redacted.
 */
export function loggerParams(config: Pick<LedgerConfig, 'logLevel'>, destination?: DestinationStream): Params {
  const options = {
    level: config.logLevel,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    // Binds only `reqId` to the logs made while handling a request; the completion line still has req and res.
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'reqId' },
    genReqId: (req: IncomingMessage) => {
      const id = (req as IncomingMessage & { id?: unknown }).id;
      return typeof id === 'string' || typeof id === 'number' ? id : randomUUID();
    },
    // Middleware mounted on a path sees `req.url` stripped of it (middie): the full path is `originalUrl`.
    autoLogging: { ignore: (req: IncomingMessage) => isQuietPath((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url) },
    // pino-http invents an Error ("failed with status code 500") for a 5xx without `res.err`; its stack points
    // into pino-http and misleads. The real error is logged, with its stack, by the exception filter.
    customErrorObject: (_req: IncomingMessage, _res: unknown, error: Error, value: Record<string, unknown>) => {
      if (!error.message.startsWith('failed with status code')) return value;
      const { err: _synthetic, ...rest } = value;
      return rest;
    },
    customLogLevel: (req: IncomingMessage, res: { statusCode: number }, err?: Error) =>
      err !== undefined || res.statusCode >= 500
        ? ('error' as const)
        : res.statusCode >= 400
          ? ('warn' as const)
          : isScrape((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url)
            ? ('silent' as const)
            : ('info' as const),
    serializers: { req: redactRequest },
  };
  return {
    pinoHttp: destination === undefined ? options : [options, destination],
    // Fields assigned to a request's logger (the command id, see apps/api/src/metrics) reach its completion line too.
    assignResponse: true,
    // nestjs-pino's default route (`{/*splat}`) matches no request under Nest 12's Fastify adapter, which
    // silently drops request logging and the request context of every log line.
    forRoutes: [{ path: '/{*path}', method: RequestMethod.ALL }],
  };
}

export function createLoggerModule(config: Pick<LedgerConfig, 'logLevel'>, destination?: DestinationStream): DynamicModule {
  return LoggerModule.forRoot(loggerParams(config, destination));
}
