import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PagedQueryDto } from '../http/query.dto.js';
import { IsLedgerId, IsLedgerTime, IsNotBlank, POSITION_PATTERN } from '../http/validation.js';

export class TierEvaluationDto {
  @ApiProperty({ example: '2026-06-30', description: 'Business time the evaluation is as of' })
  @IsLedgerTime()
  asOf!: string;
}

export class StandingQueryDto {
  @ApiPropertyOptional({ description: 'Business time of the standing (default: now)' })
  @IsOptional()
  @IsLedgerTime()
  asOf?: string;

  @ApiPropertyOptional({ description: 'Record time of the knowledge used (default: asOf, so the answer equals the tier-standings replay at asOf); e.g. now, to measure a past date with facts entered since' })
  @IsOptional()
  @IsLedgerTime()
  knownAt?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(POSITION_PATTERN)
  minPosition?: string;
}

export class ListStandingsQueryDto extends PagedQueryDto {
  @ApiPropertyOptional({ description: 'Business time of the standings (default: now)' })
  @IsOptional()
  @IsLedgerTime()
  asOf?: string;

  @ApiPropertyOptional({ description: 'Record time of the knowledge used (default: asOf, so the answer equals the tier-standings replay at asOf); e.g. now, to measure a past date with facts entered since' })
  @IsOptional()
  @IsLedgerTime()
  knownAt?: string;

  @ApiPropertyOptional({ example: 'Gold' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  tier?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsLedgerId()
  partnerId?: string;

}

// --- Tier program v2: the certification catalog ---
export class DefineCertificationDto {
  @ApiProperty({ example: 'Sales Accreditation', maxLength: 500 })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  title!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 3660, example: 365, description: 'How long a certification is valid from when it is earned' })
  @IsInt()
  @Min(1)
  @Max(3660)
  validityDays!: number;
}

export class WaterfallQueryDto {
  @ApiProperty({ example: '1999900', description: 'List price in minor units (a non-negative integer)' })
  @Matches(/^(0|[1-9]\d{0,15})$/, { message: 'listPriceMinor must be a non-negative integer of minor units' })
  listPriceMinor!: string;

  @ApiProperty({ example: 'USD' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code' })
  currency!: string;

  @ApiPropertyOptional({ description: 'The deal whose approved, protected registration earns the deal-registration layer' })
  @IsOptional()
  @IsLedgerId()
  dealId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(POSITION_PATTERN)
  minPosition?: string;
}
