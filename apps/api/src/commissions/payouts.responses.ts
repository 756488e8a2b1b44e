import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CREDIT_TYPES, type CreditType } from '#events/attribution.js';
import { CommandResponse, NEXT_CURSOR } from '../platform/command.responses.js';
import { PAYOUT_RUN_STATUSES } from './payouts.dto.js';

export class PayoutAccrualRefResponse {
  @ApiProperty({ example: 'RA-5001' })
  attributionId!: string;
  @ApiProperty({ enum: CREDIT_TYPES })
  creditType!: CreditType;
}

export class PayoutLineResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ type: 'integer', description: 'payable balance at asOf less what live runs already hold' })
  amountMinor!: number;
  @ApiProperty({ example: 'USD' })
  currency!: string;
  @ApiProperty({ type: [PayoutAccrualRefResponse], description: 'the accruals this line pays for the first time' })
  accruals!: PayoutAccrualRefResponse[];
  @ApiProperty({ enum: ['unpaid', 'paid'] })
  status!: 'unpaid' | 'paid';
  @ApiPropertyOptional({ format: 'date-time' })
  paidAt?: string;
  @ApiPropertyOptional({ example: 'WIRE-778812' })
  reference?: string;
}

export class CarriedForwardResponse {
  @ApiProperty({ example: 'P-1002' })
  partnerId!: string;
  @ApiProperty({ type: 'integer', description: 'may be negative (a clawback after payment)' })
  amountMinor!: number;
  @ApiProperty({ example: 'USD' })
  currency!: string;
  @ApiProperty({ enum: ['below-minimum', 'not-positive'] })
  reason!: 'below-minimum' | 'not-positive';
}

export class PayoutRunResponse {
  @ApiProperty({ example: 'PO-2026-Q1' })
  payoutId!: string;
  @ApiProperty({ format: 'date-time' })
  asOf!: string;
  @ApiProperty({ example: 'USD' })
  currency!: string;
  @ApiProperty({ type: 'integer' })
  planVersion!: number;
  @ApiProperty({ type: 'integer' })
  minimumPayoutMinor!: number;
  @ApiProperty({ enum: PAYOUT_RUN_STATUSES, description: '`paid` once every line is paid' })
  status!: (typeof PAYOUT_RUN_STATUSES)[number];
  @ApiProperty({ type: 'integer', description: 'Σ of the lines shown' })
  totalMinor!: number;
  @ApiProperty({ type: [PayoutLineResponse] })
  lines!: PayoutLineResponse[];
  @ApiProperty({ type: [CarriedForwardResponse] })
  carriedForward!: CarriedForwardResponse[];
  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time' })
  approvedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' })
  cancelledAt?: string;
  @ApiPropertyOptional()
  cancelReason?: string;
}

export class PayoutRunListResponse {
  @ApiProperty({ type: [PayoutRunResponse] })
  items!: PayoutRunResponse[];
  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
}

export class PayoutRunCommandResponse extends CommandResponse {
  @ApiProperty({ type: PayoutRunResponse, description: 'The run after the command' })
  run!: PayoutRunResponse;
}
