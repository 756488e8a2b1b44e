import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandResponse } from '../platform/command.responses.js';

export class RequiredCertificationResponse {
  @ApiProperty({ example: 'technical-specialist' })
  certification!: string;
  @ApiProperty({ type: 'integer', minimum: 1 })
  minSellers!: number;
}

export class TierDefinitionResponse {
  @ApiProperty({ example: 'Gold' })
  name!: string;
  @ApiProperty({ type: 'integer', description: 'Higher is better' })
  rank!: number;
  @ApiProperty({ type: 'integer' })
  minSourcedRevenueMinor!: number;
  @ApiProperty({ type: 'integer' })
  minCertifiedSellers!: number;
  @ApiProperty({ type: 'integer' })
  minWonDeals!: number;
  @ApiProperty({ type: 'integer' })
  discountBps!: number;
  @ApiProperty()
  mdfEligible!: boolean;
  @ApiPropertyOptional({ type: [String], example: ['technology', 'referral'], description: 'The partner types whose ladder this tier is on; absent: every type' })
  partnerTypes?: string[];
  @ApiPropertyOptional({ type: [RequiredCertificationResponse], description: 'Named certifications, each held by at least minSellers certified sellers' })
  requiredCertifications?: RequiredCertificationResponse[];
}

export class TierProgramResponse {
  @ApiProperty({ type: 'integer', description: '0 for the default program' })
  version!: number;
  @ApiProperty({ example: 'EUR' })
  reportingCurrency!: string;
  @ApiProperty({ type: 'integer' })
  lookbackDays!: number;
  @ApiProperty({ type: 'integer' })
  downgradeGraceDays!: number;
  @ApiProperty({ type: 'integer' })
  protectionDays!: number;
  @ApiProperty({ type: 'integer' })
  maxExtensionDays!: number;
  @ApiProperty({ type: 'integer' })
  dealRegistrationDiscountBps!: number;
  @ApiProperty({ type: [TierDefinitionResponse] })
  tiers!: TierDefinitionResponse[];
  @ApiPropertyOptional({ format: 'date-time' })
  definedAt?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'The business time from which this version applies (absent for the default program)' })
  effectiveFrom?: string;
  @ApiPropertyOptional({ type: 'integer' })
  registrationReviewDays?: number;
  @ApiPropertyOptional({ type: 'integer', description: '0: unlimited' })
  maxOpenRegistrations?: number;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, example: { crm: ['CRM', 'CRM-PRO'] } })
  productFamilies?: Record<string, string[]>;
  @ApiPropertyOptional({ type: 'integer' })
  mdfClaimDays?: number;
  @ApiPropertyOptional()
  countUnregisteredRevenue?: boolean;
}

/** The version in force now, and the versions defined to apply later. */
export class TierProgramScheduleResponse extends TierProgramResponse {
  @ApiPropertyOptional({
    type: [TierProgramResponse],
    description: 'Versions defined with a later effectiveFrom, in the order they will apply; absent when none (a version replaced before its date by a later-defined one is not listed)',
  })
  pending?: TierProgramResponse[];
}

export class ProgramDefinedResponse extends CommandResponse {
  @ApiProperty({ type: 'integer' })
  version!: number;
}
