import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsNotEmpty, IsString, Matches, Max, MaxLength, Min, ValidateNested, IsDefined } from 'class-validator';

export class TierDto {
  @ApiProperty({ example: 'Gold' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiProperty({ example: 2 })
  @IsInt()
  @Min(0)
  @Max(100)
  rank!: number;

  @ApiProperty({ example: 50000000, description: 'minor units of the reporting currency' })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  minSourcedRevenueMinor!: number;

  @ApiProperty({ example: 5 })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  minCertifiedSellers!: number;

  @ApiProperty({ example: 5 })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  minWonDeals!: number;

  @ApiProperty({ example: 2000 })
  @IsInt()
  @Min(0)
  @Max(10_000)
  discountBps!: number;

  @ApiProperty()
  @IsBoolean()
  mdfEligible!: boolean;
}

export class DefineProgramDto {
  @ApiProperty({ example: 'USD' })
  @IsString()
  @Matches(/^[A-Z]{3}$/)
  reportingCurrency!: string;

  @ApiProperty({ example: 365 })
  @IsInt()
  @Min(1)
  @Max(3660)
  lookbackDays!: number;

  @ApiProperty({ example: 90 })
  @IsInt()
  @Min(0)
  @Max(3660)
  downgradeGraceDays!: number;

  @ApiProperty({ example: 90 })
  @IsInt()
  @Min(1)
  @Max(3660)
  protectionDays!: number;

  @ApiProperty({ example: 60 })
  @IsInt()
  @Min(0)
  @Max(3660)
  maxExtensionDays!: number;

  @ApiProperty({ example: 1000 })
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
