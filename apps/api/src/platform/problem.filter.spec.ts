import { BadRequestException, ConflictException, HttpException, InternalServerErrorException, NotFoundException, type ValidationError } from '@nestjs/common';
import { AppendTooLargeError, InvalidPositionError, QueryUnavailableError, StoreAccessDeniedError, StoreUnavailableError, StreamDeletedError } from '#libs/event-store/port.js';
import { InvalidInput, RuleViolation } from '#libs/kernel/errors.js';
import { toProblem, validationProblem } from './problem.filter.js';
import { ProblemException } from './problem.js';

/** A FastifyError as the adapter hands it over: wrapped in an HttpException whose cause it is. */
function wrappedFastifyError(code: string, statusCode: number): HttpException {
  const cause = Object.assign(new Error('fastify says no'), { name: 'FastifyError', code, statusCode });
  return new HttpException(cause.message, statusCode, { cause });
}

describe('toProblem', () => {
  it.each([
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'unsupported-media-type'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'payload-too-large'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'validation-failed'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'validation-failed'],
    ['FST_ERR_BAD_URL', 400, 'validation-failed'],
  ])('maps Fastify %s to %i %s', (code, status, type) => {
    expect(toProblem(wrappedFastifyError(code, status)).body).toMatchObject({ type, status });
  });

  it('maps an unwrapped Fastify client error too', () => {
    const raw = Object.assign(new Error('too big'), { name: 'FastifyError', code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    expect(toProblem(raw).body).toMatchObject({ type: 'payload-too-large', status: 413 });
  });

  it('maps Nest HttpExceptions by status', () => {
    expect(toProblem(new BadRequestException('Validation failed (numeric string is expected)')).body).toEqual({
      type: 'validation-failed',
      title: 'The request is not valid',
      status: 400,
      detail: 'Validation failed (numeric string is expected)',
    });
    expect(toProblem(new NotFoundException('Cannot GET /x')).body).toMatchObject({ type: 'not-found', status: 404, detail: 'Cannot GET /x' });
    expect(toProblem(new ConflictException('busy')).body).toMatchObject({ type: 'conflict', status: 409 });
    expect(toProblem(new HttpException('slow down', 429)).body).toMatchObject({ type: 'too-many-requests', status: 429 });
  });

  it('keeps a problem body thrown inside an HttpException', () => {
    const body = toProblem(new HttpException({ type: 'not-caught-up', detail: 'waited 5000 ms', position: '7' }, 503)).body;
    expect(body).toEqual({ type: 'not-caught-up', title: 'Read model not caught up', status: 503, detail: 'waited 5000 ms', position: '7' });
  });

  it('maps domain errors with their field errors and extensions, which cannot replace the core members', () => {
    const body = toProblem(new InvalidInput('domain normalizes to nothing', { status: 200, hint: 'x' }, [{ path: 'customer.domain', message: 'empty' }])).body;
    expect(body).toEqual({
      type: 'validation-failed',
      title: 'The request is not valid',
      status: 400,
      detail: 'domain normalizes to nothing',
      errors: [{ path: 'customer.domain', message: 'empty' }],
      hint: 'x',
    });
    expect(toProblem(new RuleViolation('no')).body.status).toBe(422);
  });

  it('turns server faults into a generic 500 and keeps the error for the log', () => {
    const boom = new TypeError('cannot read x of undefined at /srv/secret.ts');
    const resolved = toProblem(boom);
    expect(resolved.body).toEqual({ type: 'internal-error', title: 'Internal error', status: 500, detail: expect.not.stringContaining('secret') });
    expect(resolved.internal).toBe(boom);
    expect(toProblem(new InternalServerErrorException('db password wrong')).body.detail).not.toContain('password');
    expect(toProblem('a thrown string').body.status).toBe(500);
  });

  it('writes a ProblemException as it is, with its headers', () => {
    const resolved = toProblem(ProblemException.unauthorized('no key'));
    expect(resolved.body).toMatchObject({ type: 'unauthorized', status: 401, detail: 'no key' });
    expect(resolved.headers['WWW-Authenticate']).toMatch(/^Bearer/);
  });
});

describe('toProblem for the event store\'s errors', () => {
  it.each([
    ['a position the store never issued', () => new InvalidPositionError(12345n, 'it encodes no EventStoreDB position'), 400, 'validation-failed', false],
    ['an append over the store\'s limit', () => new AppendTooLargeError('deal-1', 1048576), 413, 'payload-too-large', false],
    ['a deleted stream', () => new StreamDeletedError('deal-1'), 410, 'gone', true],
    ['the ledger\'s credentials refused', () => new StoreAccessDeniedError('access denied'), 503, 'store-unavailable', true],
    ['an unavailable store', () => new StoreUnavailableError('down'), 503, 'store-unavailable', true],
    ['a query the store cannot answer yet', () => new QueryUnavailableError('$by_correlation_id stopped'), 503, 'store-unavailable', true],
  ] as const)('maps %s to a problem, never a 500', (_, make, status, type, logged) => {
    const error = make();
    const { body, internal } = toProblem(error);
    expect(body).toMatchObject({ status, type });
    expect(internal !== undefined).toBe(logged);
  });
});

describe('validationProblem', () => {
  const error = (property: string, constraints?: Record<string, string>, children: ValidationError[] = [], value?: unknown): ValidationError => ({
    property,
    constraints,
    children,
    value,
  });

  it('joins nested paths with dots, array indexes included, and prefixes the messages with the full path', () => {
    const p = validationProblem([
      error('customer', undefined, [error('domain', { isString: 'domain must be a string' })]),
      error('lines', undefined, [error('1', undefined, [error('quantity', { min: 'quantity must not be less than 1' })])], []),
      error('extra', { whitelistValidation: 'property extra should not exist' }),
    ]);
    expect(p.status).toBe(400);
    expect(p.errors).toEqual([
      { path: 'customer.domain', message: 'customer.domain must be a string' },
      { path: 'lines.1.quantity', message: 'lines.1.quantity must not be less than 1' },
      { path: 'extra', message: 'property extra should not exist' },
    ]);
    expect(p.detail).toMatch(/^3 fields are not valid/);
  });

  it('lists at most 100 errors and says so', () => {
    const many = Array.from({ length: 250 }, (_, i) => error(String(i), { isInt: `${i} must be an integer` }));
    const p = validationProblem([error('values', undefined, many, [])]);
    expect(p.errors).toHaveLength(100);
    expect(p.detail).toMatch(/^250 fields are not valid \(the first 100 are listed\)/);
  });
});
