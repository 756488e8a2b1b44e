import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * RFC 9457 problem details, the one error shape of the API (API.md, "Conventions"). `type` is a bare slug
 * rather than a URI because the contract fixes the slugs clients switch on.
 */
export const PROBLEM_SLUGS = [
  'validation-failed',
  'unauthorized',
  'forbidden',
  'not-found',
  'method-not-allowed',
  'not-acceptable',
  'conflict',
  'already-exists',
  'concurrency-conflict',
  'registration-conflict',
  'payload-too-large',
  'unsupported-media-type',
  'rule-violation',
  'idempotency-key-reused',
  'unknown-certification',
  'seller-held-by-another-partner',
  'too-many-requests',
  'internal-error',
  'not-caught-up',
  'not-ready',
  'store-unavailable',
  'service-unavailable',
] as const;

export type ProblemSlug = (typeof PROBLEM_SLUGS)[number];

export interface ProblemFieldError {
  readonly path: string;
  readonly message: string;
}

/** The members a problem body always has; extensions may not overwrite them. */
export const PROBLEM_CORE_MEMBERS: ReadonlySet<string> = new Set(['type', 'title', 'status', 'detail', 'errors']);

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly ProblemFieldError[];
  readonly [extension: string]: unknown;
}

const TITLES: Record<ProblemSlug, string> = {
  'validation-failed': 'The request is not valid',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  'not-acceptable': 'Not acceptable',
  conflict: 'Conflict',
  'already-exists': 'Already exists',
  'concurrency-conflict': 'Concurrent change',
  'registration-conflict': 'Registration conflict',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'rule-violation': 'Business rule violated',
  'idempotency-key-reused': 'Idempotency key reused',
  'unknown-certification': 'Unknown certification',
  'seller-held-by-another-partner': 'Seller held by another partner',
  'too-many-requests': 'Too many requests',
  'internal-error': 'Internal error',
  'not-caught-up': 'Read model not caught up',
  'not-ready': 'Not ready',
  'store-unavailable': 'Event store unavailable',
  'service-unavailable': 'Service unavailable',
};

export const PROBLEM_STATUS: Record<ProblemSlug, number> = {
  'validation-failed': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'not-acceptable': 406,
  conflict: 409,
  'already-exists': 409,
  'concurrency-conflict': 409,
  'registration-conflict': 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'rule-violation': 422,
  'idempotency-key-reused': 422,
  'unknown-certification': 422,
  'seller-held-by-another-partner': 409,
  'too-many-requests': 429,
  'internal-error': 500,
  'not-caught-up': 503,
  'not-ready': 503,
  'store-unavailable': 503,
  'service-unavailable': 503,
};

export function problemTitle(slug: string): string {
  return (TITLES as Record<string, string | undefined>)[slug] ?? slug.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

export interface ProblemOptions {
  readonly errors?: readonly ProblemFieldError[];
  readonly extensions?: Readonly<Record<string, unknown>>;
  /** Response headers that belong to the refusal, e.g. `WWW-Authenticate` or `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly title?: string;
  readonly status?: number;
  readonly cause?: unknown;
}

/** An error that already knows its problem details; the filter writes it as it is. */
export class ProblemException extends Error {
  override readonly name = 'ProblemException';
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors?: readonly ProblemFieldError[];
  readonly extensions?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;

  constructor(type: ProblemSlug | (string & {}), detail: string, options: ProblemOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.type = type;
    this.status = options.status ?? (PROBLEM_STATUS as Record<string, number | undefined>)[type] ?? 500;
    this.title = options.title ?? problemTitle(type);
    this.detail = detail;
    if (options.errors?.length) this.errors = options.errors;
    if (options.extensions) this.extensions = options.extensions;
    if (options.headers) this.headers = options.headers;
  }

  toBody(): ProblemBody {
    return problemBody(this.type, this.status, this.detail, { title: this.title, errors: this.errors, extensions: this.extensions });
  }

  static validationFailed(detail: string, errors?: readonly ProblemFieldError[]): ProblemException {
    return new ProblemException('validation-failed', detail, { errors });
  }
  static unauthorized(detail: string, challenge = 'Bearer realm="channel-ledger"'): ProblemException {
    return new ProblemException('unauthorized', detail, { headers: { 'WWW-Authenticate': challenge } });
  }
  static forbidden(detail: string): ProblemException {
    return new ProblemException('forbidden', detail);
  }
  static notFound(detail: string): ProblemException {
    return new ProblemException('not-found', detail);
  }
  static alreadyExists(detail: string, extensions?: Record<string, unknown>): ProblemException {
    return new ProblemException('already-exists', detail, { extensions });
  }
  static concurrencyConflict(detail = 'The data changed while the command ran; retry it.'): ProblemException {
    return new ProblemException('concurrency-conflict', detail);
  }
  static registrationConflict(detail: string, extensions?: Record<string, unknown>): ProblemException {
    return new ProblemException('registration-conflict', detail, { extensions });
  }
  static ruleViolation(detail: string, extensions?: Record<string, unknown>): ProblemException {
    return new ProblemException('rule-violation', detail, { extensions });
  }
  static idempotencyKeyReused(detail = 'This Idempotency-Key was already used with a different request.'): ProblemException {
    return new ProblemException('idempotency-key-reused', detail);
  }
  static payloadTooLarge(detail = 'The request body is larger than the 1 MiB limit.'): ProblemException {
    return new ProblemException('payload-too-large', detail);
  }
  static unsupportedMediaType(detail = 'Request bodies must be application/json.'): ProblemException {
    return new ProblemException('unsupported-media-type', detail);
  }
  static notCaughtUp(detail: string, extensions?: Record<string, unknown>): ProblemException {
    return new ProblemException('not-caught-up', detail, { extensions, headers: { 'Retry-After': '1' } });
  }
  static notReady(detail: string, extensions?: Record<string, unknown>): ProblemException {
    return new ProblemException('not-ready', detail, { extensions });
  }
  static storeUnavailable(detail = 'The event store is unavailable; retry later.'): ProblemException {
    return new ProblemException('store-unavailable', detail, { headers: { 'Retry-After': '5' } });
  }
  static internalError(): ProblemException {
    return new ProblemException('internal-error', 'The server failed to handle the request; the failure has been logged.');
  }
}

export function problemBody(
  type: string,
  status: number,
  detail: string,
  options: { title?: string; errors?: readonly ProblemFieldError[]; extensions?: Readonly<Record<string, unknown>> } = {},
): ProblemBody {
  const body: Record<string, unknown> = { type, title: options.title ?? problemTitle(type), status, detail };
  if (options.errors?.length) body.errors = options.errors.map((e) => ({ path: e.path, message: e.message }));
  for (const [key, value] of Object.entries(options.extensions ?? {})) {
    if (!PROBLEM_CORE_MEMBERS.has(key) && value !== undefined) body[key] = value;
  }
  return body as ProblemBody;
}

/** For `@ApiResponse({ type: ProblemDetailsDto })` and the OpenAPI document's default error response. */
export class ProblemFieldErrorDto {
  @ApiProperty({ example: 'customer.domain' })
  path!: string;
  @ApiProperty({ example: 'domain must be a string' })
  message!: string;
}

export class ProblemDetailsDto {
  @ApiProperty({
    pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$',
    example: 'validation-failed',
    description: `A slug clients switch on: one of ${PROBLEM_SLUGS.map((s) => `\`${s}\``).join(', ')}, or a business rule's own slug on a 409/422 (e.g. \`amount-out-of-range\`, \`budget-below-allocated\`).`,
  })
  type!: string;
  @ApiProperty({ example: 'The request is not valid' })
  title!: string;
  @ApiProperty({ example: 400 })
  status!: number;
  @ApiProperty({ example: 'customer.domain must be a string' })
  detail!: string;
  @ApiPropertyOptional({ type: [ProblemFieldErrorDto] })
  errors?: ProblemFieldErrorDto[];
}
