import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CREDIT_TYPES, type CreditType } from '#events/attribution.js';
import { PARTNER_TYPES, type PartnerType } from '#events/partners.js';
import { CommandResponse } from '../platform/command.responses.js';

export class CommissionRuleResponse {
  @ApiPropertyOptional({ example: 'Gold' })
  tier?: string;
  @ApiPropertyOptional({ enum: PARTNER_TYPES })
  partnerType?: PartnerType;
  @ApiProperty({ enum: CREDIT_TYPES })
  creditType!: CreditType;
  @ApiProperty({ type: 'integer' })
  rateBps!: number;
}

export class CommissionPlanResponse {
  @ApiProperty({ type: 'integer', description: '0 for the default plan (no rules: nothing accrues)' })
  version!: number;
  @ApiProperty({ type: 'integer' })
  holdDays!: number;
  @ApiProperty({ type: 'integer' })
  minimumPayoutMinor!: number;
  @ApiProperty({ type: [CommissionRuleResponse] })
  rules!: CommissionRuleResponse[];
  @ApiPropertyOptional({ format: 'date-time' })
  definedAt?: string;
}

export class CommissionPlanDefinedResponse extends CommandResponse {
  @ApiProperty({ type: 'integer' })
  version!: number;
}
