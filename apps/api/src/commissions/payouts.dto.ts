import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { PagedQueryDto } from '../http/query.dto.js';
import { IsLedgerId, IsLedgerTime, IsNotBlank } from '../http/validation.js';

export const PAYOUT_RUN_STATUSES = ['created', 'approved', 'paid', 'cancelled'] as const;

export class CreatePayoutRunDto {
  @ApiProperty({ example: 'PO-2026-Q1', description: 'Chosen by the caller; a second run with the same id → 409.' })
  @IsLedgerId()
  payoutId!: string;

  @ApiProperty({ example: '2026-03-31', description: 'Accruals payable by this instant (payableFrom ≤ asOf) are paid; not after now.' })
  @IsLedgerTime()
  asOf!: string;
}

export class MarkPayoutLinePaidDto {
  @ApiProperty({ example: '2026-04-05', description: 'Business time of the payment.' })
  @IsLedgerTime()
  paidAt!: string;

  @ApiProperty({ example: 'WIRE-778812', maxLength: 200, description: "The bank's or payment provider's reference." })
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  reference!: string;
}

export class ListPayoutRunsQueryDto extends PagedQueryDto {
  @ApiPropertyOptional({ enum: PAYOUT_RUN_STATUSES })
  @IsOptional()
  @IsIn(PAYOUT_RUN_STATUSES)
  status?: (typeof PAYOUT_RUN_STATUSES)[number];

  @ApiPropertyOptional({ example: 'P-1001', description: 'The runs with a line or a carry-forward of this partner, showing only those. A partner key may only name itself.' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== '')
  @IsLedgerId()
  partnerId?: string;
}
