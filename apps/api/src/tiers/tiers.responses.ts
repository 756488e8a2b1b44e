import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandResponse, NEXT_CURSOR } from '../platform/command.responses.js';

export class TierChangeResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: 'Registered' })
  from!: string;
  @ApiProperty({ example: 'Silver' })
  to!: string;
  @ApiProperty({ example: 'promotion', description: '`promotion`, `demotion`, `downgrade-scheduled`, `downgrade-cancelled`, `override-ended`' })
  kind!: string;
  @ApiPropertyOptional({ format: 'date-time' })
  effectiveAt?: string;
}

/** An overridden partner the evaluation did not move, with what it qualifies for (`PartnerTierQualificationRecorded`). */
export class TierHeldResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: 'Gold', description: 'The tier the override holds the partner at' })
  tier!: string;
  @ApiProperty({ example: 'Silver', description: 'The tier the partner qualifies for at asOf' })
  qualifyingTier!: string;
  @ApiProperty({ format: 'date-time', description: 'When the override ends' })
  until!: string;
}

export class TierEvaluationResponse extends CommandResponse {
  @ApiProperty({ format: 'date-time' })
  asOf!: string;
  @ApiProperty({ type: 'integer' })
  evaluated!: number;
  @ApiProperty({ type: [TierChangeResponse] })
  changes!: TierChangeResponse[];
  @ApiProperty({ type: [TierHeldResponse], description: 'Overridden partners not moved, whose qualification this evaluation recorded (the first evaluation under an override, then on change)' })
  held!: TierHeldResponse[];
}

export class ShortfallResponse {
  @ApiProperty({ type: 'integer' })
  revenueMinor!: number;
  @ApiProperty({ type: 'integer' })
  certifiedSellers!: number;
  @ApiProperty({ type: 'integer' })
  wonDeals!: number;
}

export class TierStandingResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: 'Silver' })
  currentTier!: string;
  @ApiProperty({ example: 'Gold' })
  qualifyingTier!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Platinum' })
  nextTier!: string | null;
  @ApiProperty({
    oneOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]+$' }],
    description: 'Minor units of the reporting currency: an integer, or an exact decimal string beyond ±(2^53 − 1) (only a store written before amount-out-of-range holds such a sum)',
    example: 8641983,
  })
  trailingSourcedRevenueMinor!: number | string;
  @ApiProperty({ type: 'integer' })
  certifiedSellers!: number;
  @ApiProperty({ type: 'integer' })
  wonDeals!: number;
  @ApiProperty({ type: ShortfallResponse })
  shortfall!: ShortfallResponse;
  @ApiPropertyOptional({ format: 'date-time' })
  downgradeScheduledFor?: string;
  @ApiPropertyOptional()
  downgradeTo?: string;
  @ApiProperty({ format: 'date-time' })
  asOf!: string;
  @ApiProperty({ type: 'integer' })
  programVersion!: number;
}

export class TierStandingPageResponse {
  @ApiProperty({ type: [TierStandingResponse] })
  items!: TierStandingResponse[];
  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
}

export class WaterfallLayerResponse {
  @ApiProperty({ enum: ['tier-discount', 'deal-registration'] })
  kind!: string;
  @ApiProperty({ type: 'integer' })
  bps!: number;
  @ApiProperty({ type: 'integer' })
  amountMinor!: number;
}

export class PriceWaterfallResponse {
  @ApiProperty({ type: 'integer' })
  listPriceMinor!: number;
  @ApiProperty({ example: 'USD' })
  currency!: string;
  @ApiProperty({ type: [WaterfallLayerResponse] })
  layers!: WaterfallLayerResponse[];
  @ApiProperty({ type: 'integer' })
  netMinor!: number;
  @ApiProperty({ example: 'Gold' })
  tier!: string;
  @ApiProperty({ type: 'integer' })
  programVersion!: number;
}

export class CertificationDefinedResponse extends CommandResponse {
  @ApiProperty({ example: 'aws-solutions-architect' })
  name!: string;
  @ApiProperty({ example: 'AWS Solutions Architect' })
  title!: string;
  @ApiProperty({ type: 'integer', example: 730 })
  validityDays!: number;
}

export class CatalogEntryResponse {
  @ApiProperty({ example: 'aws-solutions-architect' })
  name!: string;
  @ApiProperty({ example: 'AWS Solutions Architect' })
  title!: string;
  @ApiProperty({ type: 'integer', example: 730 })
  validityDays!: number;
  @ApiProperty({ format: 'date-time' })
  definedAt!: string;
}

export class CertificationCatalogResponse {
  @ApiProperty({ type: [CatalogEntryResponse] })
  items!: CatalogEntryResponse[];
}
