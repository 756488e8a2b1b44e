import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { RequestWithActor } from './auth/access.js';
import type { LedgerConfig } from '#libs/ledger/config.js';
import { ProblemException } from './problem.js';

/** The throttler's options from the configuration: one window, one limit, for every caller. */
export function rateLimitOptions(config: Pick<LedgerConfig, 'rateLimit' | 'rateLimitWindowMs'>): ThrottlerModuleOptions {
  return { throttlers: [{ name: 'default', ttl: config.rateLimitWindowMs, limit: config.rateLimit }] };
}

/**
 * Requests per caller and window (`LEDGER_RATE_LIMIT` per `LEDGER_RATE_LIMIT_WINDOW_MS`), answered with a
 * 429 `too-many-requests` problem and `Retry-After` beyond. Runs after `AuthenticationGuard`, so a caller is
 * its actor id (every key has its own): one bucket per key over all routes, not one per route, and a client
 * cannot get a fresh bucket by moving between addresses. A request without a valid key counts against its
 * address, so guessing keys is limited too. `/health*` and `/docs*` are exempt (`@SkipThrottle()`, or served
 * outside Nest's router).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return context.getType() !== 'http';
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const actor = (req as unknown as RequestWithActor).actor;
    return actor !== undefined ? `actor:${actor.id}` : `address:${String(req.ip)}`;
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    throw new ProblemException('too-many-requests', `More than ${detail.limit} requests in ${detail.ttl} ms from this caller; retry after ${retryAfter} s.`, {
      headers: { 'Retry-After': String(retryAfter) },
      extensions: { limit: detail.limit, windowMs: detail.ttl, retryAfterSeconds: retryAfter },
    });
  }
}
