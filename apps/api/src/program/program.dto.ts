import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsString, Matches, Max, MaxLength, Min, ValidateNested, IsDefined } from 'class-validator';
import { IsNotBlank } from '../ledger/validation.js';

export class TierDto {
  @ApiProperty({ example: 'Gold' })
  @IsString()
  @IsNotBlank()
  @MaxLength(100)
  name!: string;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 100, example: 2 })
  @IsInt()
  @Min(0)
  @Max(100)
  rank!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, example: 50000000, description: 'minor units of the reporting currency' })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  minSourcedRevenueMinor!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 1_000_000, example: 5 })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  minCertifiedSellers!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 1_000_000, example: 5 })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  minWonDeals!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 10_000, example: 2000 })
  @IsInt()
  @Min(0)
  @Max(10_000)
  discountBps!: number;

  @ApiProperty({ example: true })
  @IsBoolean()
  mdfEligible!: boolean;
}

export class DefineProgramDto {
  @ApiProperty({ example: 'USD' })
  @IsString()
  @Matches(/^[A-Z]{3}$/)
  reportingCurrency!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 3660, example: 365 })
  @IsInt()
  @Min(1)
  @Max(3660)
  lookbackDays!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 3660, example: 90 })
  @IsInt()
  @Min(0)
  @Max(3660)
  downgradeGraceDays!: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 3660, example: 90 })
  @IsInt()
  @Min(1)
  @Max(3660)
  protectionDays!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 3660, example: 60 })
  @IsInt()
  @Min(0)
  @Max(3660)
  maxExtensionDays!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 10_000, example: 1000 })
  @IsInt()
  @Min(0)
  @Max(10_000)
  dealRegistrationDiscountBps!: number;

  @ApiProperty({ type: [TierDto] })
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => TierDto)
  tiers!: TierDto[];
}
