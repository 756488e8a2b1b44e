import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  ValidateIf,
  ValidateNested,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { CREDIT_TYPES, type CreditType } from '#events/attribution.js';
import { MAX_CREDITS } from '#libs/attribution/attribution.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { FULL_SHARE_BPS } from '#libs/money/allocation.js';
import { minorAmountProblem } from '#libs/money/money.js';
import { GROUP_BY, MAX_LIMIT, type GroupBy } from '#projections/attribution/attribution.queries.js';
import { IsMoney, MoneyDto } from '../http/money.dto.js';
import { IsLedgerId, IsLedgerTime, OptionalMember, IsNotBlank } from '../http/validation.js';
import { PositionQueryDto } from '../http/query.dto.js';

/** A bare amount of minor units (no currency): an integer, never a float or a string, ≥ 0, safe. */
export function IsMinorUnits(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isMinorUnits',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: (a: ValidationArguments) => `${a.property} ${minorAmountProblem(a.value) ?? 'is not valid'}`, ...options },
      validator: { validate: (v: unknown) => minorAmountProblem(v) === undefined },
    });
}

export class CreditDto {
  @ApiProperty({ example: 'P-1001', pattern: ID_PATTERN.source })
  @IsLedgerId()
  partnerId!: string;

  @ApiProperty({ enum: CREDIT_TYPES, description: 'sourced: originated the deal; influenced: helped after it existed (never counts for tiers).' })
  @IsIn(CREDIT_TYPES)
  type!: CreditType;

  @ApiProperty({ type: 'integer', example: 10000, minimum: 1, maximum: FULL_SHARE_BPS, description: 'Basis points of its type; the shares of each type present sum to exactly 10,000.' })
  @IsInt()
  @Min(1)
  @Max(FULL_SHARE_BPS)
  shareBps!: number;
}

export class AttributeRevenueDto {
  @ApiProperty({ example: 'ATT-2026-0001', pattern: ID_PATTERN.source })
  @IsLedgerId()
  attributionId!: string;

  @ApiPropertyOptional({ example: 'D-2026-0042', pattern: ID_PATTERN.source, description:
      'The deal must be won (422 `deal-not-won`), the amount in its won currency, and the deal\'s attributions net of reversals never above its won amount (422 `exceeds-won-amount`). ' +
      'The registering partner must be among the sourced credits; other active partners may share them (co-sell). Without a deal the attribution is `unregistered`.',
  })
  @OptionalMember()
  @IsLedgerId()
  dealId?: string;

  @ApiProperty({ type: MoneyDto })
  @IsMoney()
  amount!: MoneyDto;

  @ApiPropertyOptional({
    example: 1087000,
    minimum: 0,
    description:
      "The amount in the program's reporting currency, when the caller converts it itself (recorded as `conversion.source: \"caller\"`). " +
      'Left out, a foreign amount is converted exactly at the published rate in force at `recognizedAt` (422 `no-exchange-rate` when there is none).',
  })
  @OptionalMember()
  @IsMinorUnits()
  reportingAmountMinor?: number;

  @ApiProperty({ example: '2026-03-31', description: 'Business time: the finance period the revenue belongs to.' })
  @IsLedgerTime()
  recognizedAt!: string;

  @ApiProperty({ type: [CreditDto], minItems: 1, maxItems: MAX_CREDITS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CREDITS)
  @ValidateNested({ each: true })
  @Type(() => CreditDto)
  credits!: CreditDto[];
}

export class ReverseAttributionDto {
  @ApiPropertyOptional({ type: 'integer', example: 25000, minimum: 1, description: 'Minor units of the attribution currency; absent = everything that remains.' })
  @OptionalMember()
  @IsMinorUnits()
  // Zero takes back nothing: refused here, whatever the attribution (the decider agrees).
  @Min(1)
  amountMinor?: number;

  @ApiProperty({ example: 'refund', maxLength: 500 })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  reason!: string;

  @ApiProperty({ example: '2026-04-15', description: 'Business time: the finance period the reversal counts in.' })
  @IsLedgerTime()
  reversedAt!: string;
}

export class AttributionReportQueryDto extends PositionQueryDto {
  @ApiPropertyOptional({ example: '2026-01-01', description: 'Business time, included.' })
  @IsOptional()
  @IsLedgerTime()
  from?: string;

  @ApiPropertyOptional({ example: '2026-03-31T23:59:59.999Z', description: 'Business time, included.' })
  @IsOptional()
  @IsLedgerTime()
  to?: string;

  @ApiPropertyOptional({ example: 'P-1001', description: 'A partner key may only name itself.' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== '')
  @IsLedgerId()
  partnerId?: string;

  @ApiPropertyOptional({ enum: GROUP_BY, default: 'month' })
  @IsOptional()
  @IsIn(GROUP_BY)
  groupBy?: GroupBy;

  @ApiPropertyOptional({ type: 'integer', default: 100, minimum: 1, maximum: MAX_LIMIT, description: 'Items per page (JSON; a CSV without `limit` has every row).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(400)
  cursor?: string;
}
