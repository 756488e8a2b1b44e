import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import type { EventStore } from '#libs/event-store/port.js';
import { LEDGER_CONFIG, type LedgerConfig } from '#libs/ledger/config.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';
import { NotCaughtUpError } from '#projections/runner/read-models.js';
import { POSITION_PATTERN } from '../http/validation.js';
import { ProblemException } from '../platform/problem.js';

/**
 * API.md: every `GET` takes `?minPosition=` and answers `Ledger-Position`, the `/v1/audit/*` ones included, where
 * the "read model" is the log itself. This waits (up to the consistency timeout, then 503 not-caught-up) until the
 * log has reached `minPosition`, takes the parameter off the query before the route's own DTO sees it, and sets
 * `Ledger-Position` to the log's head for the routes that do not name a position of their own.
 */
@Injectable()
export class LogPositionInterceptor implements NestInterceptor {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    if (req.method === 'GET') {
      const query = (req.query ?? {}) as Record<string, unknown>;
      if (Object.prototype.hasOwnProperty.call(query, 'minPosition')) {
        const raw = query.minPosition;
        // As strict as every other route's DTO: present means a decimal position (an empty value is refused too).
        if (typeof raw !== 'string' || !POSITION_PATTERN.test(raw)) {
          throw ProblemException.validationFailed('minPosition must be a decimal position.', [{ path: 'minPosition', message: 'must be a non-negative decimal integer' }]);
        }
        delete query.minPosition;
        await this.reach(BigInt(raw));
      }
      void reply.header('Ledger-Position', (await this.store.headPosition()).toString());
    }
    return next.handle();
  }

  private async reach(wanted: bigint): Promise<void> {
    const deadline = Date.now() + this.config.consistencyTimeoutMs;
    for (;;) {
      const head = await this.store.headPosition();
      if (head >= wanted) return;
      if (Date.now() >= deadline) throw new NotCaughtUpError(wanted, head);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
