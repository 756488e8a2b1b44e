import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from './auth/access.js';
import { ProblemDetailsDto, ProblemException } from './problem.js';

/** One readiness condition (store reachable, projections caught up...). A check that throws is not ok. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

/** Token of the app's `ReadinessCheck[]`, given to `PlatformModule.forRoot(config, { readinessChecks })`. */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** A hung dependency must turn into "not ready", not into a probe that never answers. */
export const READINESS_CHECK_TIMEOUT_MS = 2000;

export interface CheckResult {
  readonly ok: boolean;
  readonly detail?: string;
}

export async function runReadinessChecks(checks: readonly ReadinessCheck[], timeoutMs = READINESS_CHECK_TIMEOUT_MS): Promise<Record<string, CheckResult>> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, CheckResult]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      });
      try {
        const result = await Promise.race([
          Promise.resolve()
            .then(() => c.check())
            .then((r): CheckResult => (r.detail === undefined ? { ok: r.ok === true } : { ok: r.ok === true, detail: r.detail })),
          timeout,
        ]);
        return [c.name, result];
      } catch (error) {
        return [c.name, { ok: false, detail: error instanceof Error ? error.message : String(error) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(results);
}

@ApiTags('operations')
@Public()
// Probes come often and from the orchestrator: never rate limited.
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(@Inject(READINESS_CHECKS) private readonly checks: readonly ReadinessCheck[]) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the event store answers and the read models keep up with the log' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['ready'] },
        checks: { type: 'object', additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, detail: { type: 'string' } } } },
      },
    },
  })
  @ApiServiceUnavailableResponse({ type: ProblemDetailsDto, description: 'not-ready: the detail names the failed checks' })
  async ready(): Promise<{ status: 'ready'; checks: Record<string, CheckResult> }> {
    const checks = await runReadinessChecks(this.checks);
    const failed = Object.entries(checks).filter(([, r]) => !r.ok);
    if (failed.length) {
      const detail = `Not ready: ${failed.map(([name, r]) => `${name}${r.detail ? ` (${r.detail})` : ''}`).join('; ')}`;
      throw ProblemException.notReady(detail, { checks });
    }
    return { status: 'ready', checks };
  }
}
