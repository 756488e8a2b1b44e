import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { PinoLogger } from 'nestjs-pino';
import { type Observable, tap } from 'rxjs';
import type { CommandContext } from '#libs/ledger/context.js';
import type { LedgerObserver } from '../wiring/ledger.module.js';
import { toProblem } from '../platform/problem.filter.js';
import { type CommandOutcomeLabel, Metrics } from './metrics.service.js';

/** What the interceptor and the pipeline's observer share about the command a request is running. */
interface CommandScope {
  commandId?: string;
  replayed: boolean;
}

const scopes = new AsyncLocalStorage<CommandScope>();

const COMMAND_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `ok` / `replayed` / `refused-<slug>` for a 4xx problem / `error` for a 5xx, the same mapping the exception filter uses. */
export function outcomeOf(error: unknown): CommandOutcomeLabel {
  const { body } = toProblem(error);
  return body.status >= 500 ? 'error' : `refused-${body.type}`;
}

/**
 * Counts and times every command route by its route template (`POST /v1/partners/:id/activate`) and outcome.
 * It runs after the guard, so 401/403 are not commands; validation refusals are (pipes run inside it).
 */
@Injectable()
export class CommandMetricsInterceptor implements NestInterceptor {
  constructor(@Inject(Metrics) private readonly metrics: Metrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    if (!COMMAND_METHODS.has(req.method)) return next.handle();
    const command = `${req.method} ${req.routeOptions?.url ?? '(unmatched)'}`;
    const scope: CommandScope = { replayed: false };
    const started = performance.now();
    const done = (outcome: CommandOutcomeLabel) => this.metrics.commandFinished(command, outcome, (performance.now() - started) / 1000);
    // `handle()` binds the async context it is called in: the handler, and the executor's observer below, see `scope`.
    return scopes.run(scope, () => next.handle()).pipe(
      tap({
        complete: () => done(scope.replayed ? 'replayed' : 'ok'),
        error: (error: unknown) => done(outcomeOf(error)),
      }),
    );
  }
}

/**
 * The ledger's instrumentation: metrics from the command pipeline and the projection runner, and the command id
 * bound to the request's log context (every later line of the request, the completion line included, carries it).
 */
export function ledgerObserver(metrics: Metrics, logger?: PinoLogger): LedgerObserver {
  const quietly = (fn: () => void) => {
    try {
      fn();
    } catch {
      // Instrumentation never fails a command.
    }
  };
  return {
    commands: {
      started: (ctx: CommandContext) =>
        quietly(() => {
          const scope = scopes.getStore();
          // The executor reports a command once per call: bind the request's first command id once, or lines
          // would carry the field twice (pino appends child bindings, it does not replace them).
          if (scope?.commandId !== undefined) return;
          if (scope) scope.commandId = ctx.commandId;
          try {
            logger?.assign({ commandId: ctx.commandId });
          } catch {
            // Outside a request (CLI, tests driving the executor directly) there is no log context to bind to.
          }
        }),
      replayed: () =>
        quietly(() => {
          const scope = scopes.getStore();
          if (scope) scope.replayed = true;
          metrics.idempotentReplay();
        }),
      appended: (a) => quietly(() => metrics.append(a)),
    },
    projections: {
      batchApplied: (b) => quietly(() => metrics.projectionBatch(b)),
    },
  };
}
