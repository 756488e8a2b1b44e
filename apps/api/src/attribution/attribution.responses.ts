import { ApiProperty, type ApiPropertyOptions, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandResponse, MoneyResponse, NEXT_CURSOR } from '../platform/command.responses.js';

const CREDIT_TYPES = ['sourced', 'influenced'];

export class AllocationResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ enum: CREDIT_TYPES })
  type!: string;
  @ApiProperty({ type: 'integer' })
  amountMinor!: number;
  @ApiPropertyOptional({ type: 'integer', description: 'Only when the attribution\'s currency is not the reporting currency' })
  reportingAmountMinor?: number;
}

export class CreditResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ enum: CREDIT_TYPES })
  type!: string;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 10000 })
  shareBps!: number;
}

export class AttributionCommandResponse extends CommandResponse {
  @ApiProperty({ example: 'RA-5001' })
  attributionId!: string;
  @ApiPropertyOptional({ type: [AllocationResponse] })
  allocations?: AllocationResponse[];
  @ApiPropertyOptional({ example: 'EUR' })
  reportingCurrency?: string;
  @ApiPropertyOptional({ type: 'integer' })
  reportingAmountMinor?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'Reversal: the amount taken back' })
  amountMinor?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'Reversal: what remains of the attribution' })
  remainingMinor?: number;
}

export class ReversalResponse {
  @ApiProperty({ type: 'integer' })
  sequence!: number;
  @ApiProperty({ type: 'integer' })
  amountMinor!: number;
  @ApiPropertyOptional({ type: 'integer' })
  reportingAmountMinor?: number;
  @ApiProperty()
  reason!: string;
  @ApiProperty({ format: 'date-time' })
  reversedAt!: string;
  @ApiProperty({ type: [AllocationResponse] })
  allocations!: AllocationResponse[];
  @ApiProperty({ type: 'integer' })
  remainingMinor!: number;
  @ApiProperty({ example: '42' })
  position!: string;
  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;
}

export class AttributionResponse {
  @ApiProperty({ example: 'RA-5001' })
  attributionId!: string;
  @ApiPropertyOptional({ example: 'D-2001' })
  dealId?: string;
  @ApiProperty({ type: MoneyResponse })
  amount!: MoneyResponse;
  @ApiProperty({ example: 'EUR' })
  reportingCurrency!: string;
  @ApiPropertyOptional({ type: 'integer' })
  reportingAmountMinor?: number;
  @ApiProperty({ format: 'date-time' })
  recognizedAt!: string;
  @ApiProperty({ type: [CreditResponse] })
  credits!: CreditResponse[];
  @ApiProperty({ type: [AllocationResponse] })
  allocations!: AllocationResponse[];
  @ApiProperty({ type: [ReversalResponse] })
  reversals!: ReversalResponse[];
  @ApiProperty({ type: 'integer' })
  remainingMinor!: number;
  @ApiPropertyOptional({ type: 'integer' })
  remainingReportingMinor?: number;
  @ApiProperty({ enum: ['attributed', 'reversed'] })
  status!: string;
  @ApiProperty({ type: 'integer' })
  programVersion!: number;
  @ApiProperty({ example: '42' })
  position!: string;
  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;
}

/**
 * A sum in minor units: a JSON integer, or its exact decimal string when beyond ±(2^53 − 1) (only a store written
 * before v2's range check can hold such sums).
 */
const EXACT_MINOR: ApiPropertyOptions = {
  oneOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]+$' }],
  description: 'Minor units: an integer, or an exact decimal string beyond ±(2^53 − 1)',
  example: 2500000,
};

export class AttributionAmountsResponse {
  @ApiProperty({ example: 'EUR' })
  currency!: string;
  @ApiProperty(EXACT_MINOR)
  sourcedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  influencedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  reversedSourcedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  reversedInfluencedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  netSourcedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  netInfluencedMinor!: number | string;
}

export class AttributionReportItemResponse extends AttributionAmountsResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: '2026-Q1', description: '`YYYY-MM` or `YYYY-Qn` of the business time' })
  period!: string;
  // --- v2 money: the conversion of the row's lines (one row per partner, period, currency and conversion) ---
  @ApiProperty({ example: 'USD', description: 'The reporting currency the lines were converted to (the currency itself when no conversion applies)' })
  reportingCurrency!: string;
  @ApiPropertyOptional({ example: '1.0834', pattern: '^[0-9]+(\\.[0-9]+)?$', description: 'The published rate applied (exact decimal, reporting units per unit of currency); absent for the caller\'s own figure or no conversion' })
  rate?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'The date of that rate: the one in force at recognizedAt' })
  rateDate?: string;
  @ApiPropertyOptional({ example: 'ECB', description: 'Where the reporting amount came from: the rate\'s source, or `caller`; absent when currency is the reporting currency' })
  rateSource?: string;
  @ApiProperty(EXACT_MINOR)
  reportingSourcedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  reportingInfluencedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  reportingReversedSourcedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  reportingReversedInfluencedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  reportingNetSourcedMinor!: number | string;
  @ApiProperty(EXACT_MINOR)
  reportingNetInfluencedMinor!: number | string;
}

export class AttributionReportResponse {
  @ApiProperty({ type: [AttributionReportItemResponse] })
  items!: AttributionReportItemResponse[];
  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
  @ApiProperty({ type: [AttributionAmountsResponse], description: 'One per currency of the filtered lines' })
  totals!: AttributionAmountsResponse[];
  @ApiProperty({ type: [AttributionAmountsResponse], description: 'The same lines in the reporting currency' })
  reportingTotals!: AttributionAmountsResponse[];
}
