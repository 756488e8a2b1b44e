import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CREDIT_TYPES, type CreditType } from '#events/attribution.js';
import { PARTNER_TYPES, type PartnerType } from '#events/partners.js';
import { CommandResponse, NEXT_CURSOR } from '../platform/command.responses.js';

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

export class CommissionEntryResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: 'RA-5001' })
  attributionId!: string;
  @ApiProperty({ enum: CREDIT_TYPES })
  creditType!: CreditType;
  @ApiProperty({ enum: ['accrued', 'clawed-back'] })
  kind!: 'accrued' | 'clawed-back';
  @ApiProperty({ type: 'integer', description: "0 for an accrual; the reversal's sequence for a clawback" })
  sequence!: number;
  @ApiProperty({ type: 'integer', description: 'minor units of `currency` (positive for both kinds)' })
  amountMinor!: number;
  @ApiProperty({ example: 'USD', description: 'the reporting currency' })
  currency!: string;
  @ApiProperty({ type: 'integer', description: 'the reporting amount the rate applied to (a clawback: the reversed part)' })
  baseMinor!: number;
  @ApiProperty({ type: 'integer' })
  rateBps!: number;
  @ApiProperty({ type: 'integer' })
  planVersion!: number;
  @ApiProperty({ format: 'date-time', description: 'business time: recognizedAt of an accrual, reversedAt of a clawback' })
  at!: string;
  @ApiProperty({ format: 'date-time', description: "the accrual's" })
  payableFrom!: string;
  @ApiProperty({ example: '42', description: 'log position of the event' })
  position!: string;
}

export class CommissionListResponse {
  @ApiProperty({ type: [CommissionEntryResponse] })
  items!: CommissionEntryResponse[];
  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
}

export class CommissionBalanceResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: 'USD' })
  currency!: string;
  @ApiProperty({ type: 'integer' })
  accruedMinor!: number;
  @ApiProperty({ type: 'integer' })
  clawedBackMinor!: number;
  @ApiProperty({ type: 'integer', description: 'accruals (net of their clawbacks) whose payableFrom is after asOf' })
  heldMinor!: number;
  @ApiProperty({ type: 'integer', description: 'balance − held; negative after a clawback of paid commission' })
  payableMinor!: number;
  @ApiProperty({ type: 'integer' })
  paidMinor!: number;
  @ApiProperty({ type: 'integer', description: 'accrued − clawed back − paid' })
  balanceMinor!: number;
}

export class CommissionBalancesResponse {
  @ApiProperty({ format: 'date-time' })
  asOf!: string;
  @ApiProperty({ type: [CommissionBalanceResponse] })
  items!: CommissionBalanceResponse[];
}
