import type { FastifyRequest } from 'fastify';
import type { Actor } from '#events/envelope.js';
import { ProblemException } from '../platform/problem.js';
import { commandContext, type CommandContext } from '#libs/ledger/context.js';
import { POSITION_PATTERN } from './validation.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The command context of one HTTP request: actor, Idempotency-Key, and the request it fingerprints. */
export function contextOf(req: FastifyRequest, actor: Actor): CommandContext {
  const raw = req.headers['idempotency-key'];
  if (Array.isArray(raw)) throw ProblemException.validationFailed('Send one Idempotency-Key header, not several.', [{ path: 'Idempotency-Key', message: 'repeated header' }]);
  if (raw !== undefined && !IDEMPOTENCY_KEY.test(raw)) {
    throw ProblemException.validationFailed('Idempotency-Key must be 1 to 255 visible ASCII characters.', [{ path: 'Idempotency-Key', message: 'invalid header value' }]);
  }
  const path = req.url.split('?')[0] ?? req.url;
  return commandContext(actor, { idempotencyKey: raw, method: req.method, path, body: req.body, requestId: String(req.id) });
}

/** `?minPosition=`: a decimal position, or undefined. */
export function minPositionOf(value: unknown): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !POSITION_PATTERN.test(value)) {
    throw ProblemException.validationFailed('minPosition must be a decimal position.', [{ path: 'minPosition', message: 'must be a non-negative decimal integer' }]);
  }
  return BigInt(value);
}
