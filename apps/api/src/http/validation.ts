import { registerDecorator, ValidateIf, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { isCleanText } from '#libs/kernel/input.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z$/;

/**
 * API.md: a time is an ISO 8601 date (`2026-03-31`, 00:00 UTC) or a UTC date-time (`...Z`). Returns the
 * canonical `toISOString()` form, or undefined when the text is not such a time (including 2026-02-30).
 */
export function parseLedgerTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  if (!DATE.test(value) && !DATE_TIME.test(value)) return undefined;
  const iso = DATE.test(value) ? `${value}T00:00:00.000Z` : value;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return undefined;
  const d = new Date(t);
  // Date.parse rolls 2026-02-30 over to March: refuse dates that do not exist.
  if (d.toISOString().slice(0, 10) !== value.slice(0, 10)) return undefined;
  if (d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999) return undefined;
  return d.toISOString();
}

export function IsLedgerTime(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isLedgerTime',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: (a: ValidationArguments) => `${a.property} must be an ISO 8601 date (2026-03-31) or UTC date-time (2026-03-31T12:00:00Z)`, ...options },
      validator: { validate: (v: unknown) => parseLedgerTime(v) !== undefined },
    });
}

export function IsLedgerId(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isLedgerId',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: (a: ValidationArguments) => `${a.property} must match ${ID_PATTERN.source}`, ...options },
      validator: { validate: (v: unknown) => typeof v === 'string' && ID_PATTERN.test(v) },
    });
}

/** `minPosition`, `fromPosition`: decimal strings of non-negative integers. */
export const POSITION_PATTERN = /^\d{1,20}$/;

/**
 * An optional member of a JSON body. class-validator's `@IsOptional()` also skips `null`, which would let
 * `{ "amount": null }` through to a command as if it were a value (and `{ ...null }` is `{}`): here only an
 * absent member is "not given", and `null` is checked (and refused) by the member's own rules. Query
 * parameters are strings or absent, so their DTOs keep `@IsOptional()`.
 */
export function OptionalMember(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

/**
 * API.md: free-text fields (names, reasons, activities, references) are non-empty; text of blanks only is as
 * empty as "" (the deciders agree, and would otherwise refuse it later, after reading state). Non-strings
 * pass here: `@IsString()` reports them.
 */
export function IsNotBlank(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isNotBlank',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: (a: ValidationArguments) => `${a.property} must not be empty or blank, nor hold control characters or lone surrogates`, ...options },
      // Issue #17: text of a NUL only, or a lone surrogate, is not text either.
      validator: { validate: (v: unknown) => typeof v !== 'string' || (v.trim() !== '' && isCleanText(v)) },
    });
}
