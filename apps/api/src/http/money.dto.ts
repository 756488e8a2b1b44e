import { ApiProperty } from '@nestjs/swagger';
import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { moneyProblem } from '#libs/money/money.js';

/** For OpenAPI only: bodies validate Money with `@IsMoney()`, which checks the whole object at once. */
export class MoneyDto {
  @ApiProperty({ type: 'integer', example: 1250000, description: 'Integer minor units (cents; JPY has none). Never a float or a string.', minimum: 0 })
  amountMinor!: number;

  @ApiProperty({ example: 'USD', description: 'ISO 4217 code' })
  currency!: string;
}

/**
 * Validates a Money member as a whole (`{ amountMinor, currency }`, nothing else), with a message that says
 * which rule failed; `@ValidateNested` would let unknown members through the whitelist's error paths.
 */
export function IsMoney(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isMoney',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: (a: ValidationArguments) => `${a.property}: ${moneyProblem(a.value) ?? 'invalid money'}`, ...options },
      validator: { validate: (v: unknown) => moneyProblem(v) === undefined },
    });
}
