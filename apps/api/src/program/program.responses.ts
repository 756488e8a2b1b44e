import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandResponse } from '../platform/command.responses.js';

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
}

export class ProgramDefinedResponse extends CommandResponse {
  @ApiProperty({ type: 'integer' })
  version!: number;
}
