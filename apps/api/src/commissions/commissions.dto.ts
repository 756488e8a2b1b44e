import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';
import { CREDIT_TYPES, type CreditType } from '#events/attribution.js';
import { PARTNER_TYPES, type PartnerType } from '#events/partners.js';
import { PagedQueryDto, PositionQueryDto } from '../http/query.dto.js';
import { IsLedgerId, IsLedgerTime, IsNotBlank, OptionalMember } from '../http/validation.js';

export class CommissionRuleDto {
  @ApiPropertyOptional({ example: 'Gold', description: "The partner's tier at recognizedAt (default: any tier)" })
  @OptionalMember()
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  tier?: string;

  @ApiPropertyOptional({ enum: PARTNER_TYPES, example: 'reseller', description: 'Default: any partner type' })
  @OptionalMember()
  @IsIn(PARTNER_TYPES)
  partnerType?: PartnerType;

  @ApiProperty({ enum: CREDIT_TYPES, example: 'sourced' })
  @IsIn(CREDIT_TYPES)
  creditType!: CreditType;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 10_000, example: 1000, description: 'basis points of the reporting amount' })
  @IsInt()
  @Min(0)
  @Max(10_000)
  rateBps!: number;
}

export class DefineCommissionPlanDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 3660, example: 30, description: 'days after recognizedAt before an accrual is payable (default 30)' })
  @OptionalMember()
  @IsInt()
  @Min(0)
  @Max(3660)
  holdDays?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, example: 5000, description: 'minor units of the reporting currency (default 0)' })
  @OptionalMember()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  minimumPayoutMinor?: number;

  @ApiProperty({ type: () => [CommissionRuleDto] })
  @IsDefined()
  @IsArray()
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => CommissionRuleDto)
  rules!: CommissionRuleDto[];
}

export class ListCommissionsQueryDto extends PagedQueryDto {
  @ApiPropertyOptional({ example: 'P-1001', description: 'A partner key may only name itself (and sees only its own without it).' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== '')
  @IsLedgerId()
  partnerId?: string;

  @ApiPropertyOptional({ example: '2026-01-01', description: 'Business time (recognizedAt of an accrual, reversedAt of a clawback), included.' })
  @IsOptional()
  @IsLedgerTime()
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-31T23:59:59.999Z', description: 'Business time, included.' })
  @IsOptional()
  @IsLedgerTime()
  to?: string;
}

export class CommissionBalancesQueryDto extends PositionQueryDto {
  @ApiPropertyOptional({ example: 'P-1001', description: 'A partner key may only name itself (and sees only its own without it).' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== '')
  @IsLedgerId()
  partnerId?: string;

  @ApiPropertyOptional({ example: '2026-03-31', description: 'Business time of the balances (default: now): accruals recognized, clawbacks reversed and lines paid by then; held = not payable yet at asOf.' })
  @IsOptional()
  @IsLedgerTime()
  asOf?: string;
}
