import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO31661Alpha2, IsOptional, IsString, MaxLength } from 'class-validator';
import { PARTNER_STATUSES, PARTNER_TYPES, type PartnerType } from '#events/partners.js';
import { PagedQueryDto } from '../http/query.dto.js';
import { IsLedgerId, IsLedgerTime, OptionalMember, IsNotBlank } from '../http/validation.js';

export class EnrollPartnerDto {
  @ApiProperty({ example: 'P-1001', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' })
  @IsLedgerId()
  partnerId!: string;

  @ApiProperty({ example: 'Northwind Resellers', maxLength: 500 })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  name!: string;

  @ApiProperty({ enum: PARTNER_TYPES })
  @IsIn(PARTNER_TYPES)
  type!: PartnerType;

  @ApiProperty({ example: 'northwind.example.com', description: 'Folded to its registrable domain: unique among partners that are not terminated.' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  domain!: string;

  @ApiPropertyOptional({ example: 'DE', description: 'ISO 3166-1 alpha-2' })
  @OptionalMember()
  @IsISO31661Alpha2()
  country?: string;
}

export class ReasonDto {
  @ApiProperty({ maxLength: 500, example: 'Quarterly partner review' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  reason!: string;
}

export class OptionalReasonDto {
  @ApiPropertyOptional({ maxLength: 500, example: 'Quarterly partner review' })
  @OptionalMember()
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  reason?: string;
}

export class EmptyDto {}

export class CertifySellerDto {
  @ApiProperty({ example: 'seller-42' })
  @IsLedgerId()
  sellerId!: string;

  @ApiProperty({ example: 'Solutions Architect', maxLength: 500 })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  certification!: string;

  @ApiProperty({ example: '2026-03-31' })
  @IsLedgerTime()
  earnedAt!: string;

  @ApiPropertyOptional({ example: '2027-03-31' })
  @OptionalMember()
  @IsLedgerTime()
  expiresAt?: string;
}


export class ListPartnersQueryDto extends PagedQueryDto {
  @ApiPropertyOptional({ enum: PARTNER_STATUSES })
  @IsOptional()
  @IsIn(PARTNER_STATUSES)
  status?: string;

  @ApiPropertyOptional({ enum: PARTNER_TYPES })
  @IsOptional()
  @IsIn(PARTNER_TYPES)
  type?: string;

  @ApiPropertyOptional({ example: 'Gold' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  tier?: string;

}

// --- Tier program v2 (API.md, "v2 additions / Tiers") ---
export class TierOverrideDto {
  @ApiProperty({ example: 'Gold', description: "A tier of the partner's ladder in the program effective now" })
  @IsString()
  @IsNotBlank()
  @MaxLength(100)
  tier!: string;

  @ApiProperty({ example: 'strategic launch partner for the EMEA region' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  reason!: string;

  @ApiProperty({ example: '2026-12-31', description: 'Business time the override holds until (evaluations from then on move the partner again)' })
  @IsLedgerTime()
  until!: string;
}
