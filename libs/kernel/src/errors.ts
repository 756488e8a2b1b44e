/**
 * Typed refusals of the domain. The HTTP layer maps each slug to its status and problem type in one
 * exception filter (API.md, "Conventions"); deciders only throw these.
 */
export type DomainErrorSlug =
  | 'not-found'
  | 'already-exists'
  | 'rule-violation'
  | 'registration-conflict'
  | 'validation-failed'
  | 'forbidden'
  | 'concurrency-conflict'
  | 'idempotency-key-reused'
  // Tier program v2 (API.md, "v2 additions / Tiers").
  | 'unknown-certification'
  | 'seller-held-by-another-partner';

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export abstract class DomainError extends Error {
  abstract readonly slug: DomainErrorSlug;
  constructor(
    message: string,
    /** Extra problem members, e.g. `conflictsWith`. */
    readonly extensions: Readonly<Record<string, unknown>> = {},
    readonly errors: readonly FieldError[] = [],
    /**
     * The rule's own problem type where the contract names one within the slug's family (API.md v2: a 422
     * `consumer-domain` is a rule violation, a 409 `direct-account` a registration conflict); the slug otherwise.
     */
    readonly rule?: string,
  ) {
    super(message);
  }

  get problemType(): string {
    return this.rule ?? this.slug;
  }
}

export class NotFound extends DomainError {
  readonly slug = 'not-found' as const;
  override readonly name = 'NotFound';
}

export class AlreadyExists extends DomainError {
  readonly slug = 'already-exists' as const;
  override readonly name = 'AlreadyExists';
}

export class RuleViolation extends DomainError {
  readonly slug = 'rule-violation' as const;
  override readonly name: string = 'RuleViolation';
}

/**
 * A 422 whose rule has its own problem type in the contract (API.md names them: `exceeds-won-amount`,
 * `budget-exceeded`...), so that clients can switch on the rule rather than parse the detail.
 */
export class NamedRuleViolation extends RuleViolation {
  override readonly name: string = 'NamedRuleViolation';
  constructor(problemType: string, message: string, extensions: Readonly<Record<string, unknown>> = {}, errors: readonly FieldError[] = []) {
    super(message, extensions, errors, problemType);
  }
}

export class RegistrationConflict extends DomainError {
  readonly slug = 'registration-conflict' as const;
  override readonly name = 'RegistrationConflict';
}

/** Input that passed the DTO's shape checks but is still invalid (a domain that normalizes to nothing, say). */
export class InvalidInput extends DomainError {
  readonly slug = 'validation-failed' as const;
  override readonly name = 'InvalidInput';
}

export class Forbidden extends DomainError {
  readonly slug = 'forbidden' as const;
  override readonly name = 'Forbidden';
}

/** A stream kept changing under a command: it was read and decided again until the retry policy gave up. */
export class ConcurrencyConflict extends DomainError {
  readonly slug = 'concurrency-conflict' as const;
  override readonly name = 'ConcurrencyConflict';
}

/** Tier program v2: once the catalog has an entry, a certification not in it (422). */
export class UnknownCertification extends DomainError {
  readonly slug = 'unknown-certification' as const;
  override readonly name = 'UnknownCertification';
}

/** Tier program v2: a seller counts for one partner at a time (409). */
export class SellerHeldByAnotherPartner extends DomainError {
  readonly slug = 'seller-held-by-another-partner' as const;
  override readonly name = 'SellerHeldByAnotherPartner';
}

/** An `Idempotency-Key` sent again with a different request. */
export class IdempotencyKeyReused extends DomainError {
  readonly slug = 'idempotency-key-reused' as const;
  override readonly name = 'IdempotencyKeyReused';
}
