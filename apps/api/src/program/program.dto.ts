import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsString, Matches, Max, MaxLength, Min, ValidateNested, IsDefined, IsIn, IsObject } from 'class-validator';
import { PARTNER_TYPES, type PartnerType } from '#events/partners.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { IsLedgerTime, IsNotBlank, OptionalMember } from '../http/validation.js';

// --- Tier program v2 (the tiers helper) ---
export class RequiredCertificationDto {
  @ApiProperty({ example: 'Sales Accreditation' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  certification!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 1_000_000, example: 2 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  minSellers!: number;
}

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

  // --- Tier program v2 (the tiers helper): tracks per partner type, required certifications ---
  @ApiPropertyOptional({ enum: PARTNER_TYPES, isArray: true, example: ['reseller', 'distributor'], description: 'The partner types whose ladder has this tier (default: every type)' })
  @OptionalMember()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(PARTNER_TYPES.length)
  @IsIn(PARTNER_TYPES, { each: true })
  partnerTypes?: PartnerType[];

  @ApiPropertyOptional({ type: () => [RequiredCertificationDto], description: 'Named certifications, each held by at least minSellers certified sellers' })
  @OptionalMember()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => RequiredCertificationDto)
  requiredCertifications?: RequiredCertificationDto[];
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

  // --- deal registration policy (v2, DOMAIN.md "Rules of engagement"); each optional, defaults in docs/deals.md ---
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 3660, example: 14, description: 'A registration still submitted or conflicted this many days after registeredAt expires at the next expiry run (review-lapsed). Default 14.' })
  @OptionalMember()
  @IsInt()
  @Min(1)
  @Max(3660)
  registrationReviewDays?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 1_000_000, example: 25, description: 'Active registrations a partner may hold; one more is refused with 422 registration-capacity. 0 (default) = unlimited.' })
  @OptionalMember()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  maxOpenRegistrations?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string', pattern: ID_PATTERN.source }, minItems: 1 },
    example: { 'CRM-SUITE': ['CRM-ENT', 'CRM-SALES', 'CRM-SERVICE'] },
    description: 'Family → product codes (a code in at most one family): two registrations overlap when they share a product code or a family. Default: none.',
  })
  @OptionalMember()
  @IsObject()
  productFamilies?: Record<string, string[]>;
  // --- end of deal registration policy ---
  // --- v2 money policy (docs/money.md)
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 3660, default: 90, description: 'MDF claims are due by (activityEndsAt or approval) + mdfClaimDays.' })
  @OptionalMember()
  @IsInt()
  @Min(1)
  @Max(3660)
  mdfClaimDays?: number;

  @ApiPropertyOptional({ default: true, description: 'Whether attributions without a deal (`unregistered`) count toward tier revenue.' })
  @OptionalMember()
  @IsBoolean()
  countUnregisteredRevenue?: boolean;
  // --- end v2 money policy
  // --- Tier program v2 (the tiers helper) ---
  @ApiPropertyOptional({ example: '2026-07-01', description: 'Business time from which tier decisions use this version (default: when defined)' })
  @OptionalMember()
  @IsLedgerTime()
  effectiveFrom?: string;
}
