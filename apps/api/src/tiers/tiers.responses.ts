import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandResponse, NEXT_CURSOR } from '../platform/command.responses.js';

export class TierChangeResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: 'Registered' })
  from!: string;
  @ApiProperty({ example: 'Silver' })
  to!: string;
  @ApiProperty({ example: 'upgrade', description: '`upgrade`, `downgrade`, `downgrade-scheduled`, `downgrade-cancelled`' })
  kind!: string;
  @ApiPropertyOptional({ format: 'date-time' })
  effectiveAt?: string;
}

export class TierEvaluationResponse extends CommandResponse {
  @ApiProperty({ format: 'date-time' })
  asOf!: string;
  @ApiProperty({ type: 'integer' })
  evaluated!: number;
  @ApiProperty({ type: [TierChangeResponse] })
  changes!: TierChangeResponse[];
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
  @ApiProperty({ type: 'integer' })
  trailingSourcedRevenueMinor!: number;
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
