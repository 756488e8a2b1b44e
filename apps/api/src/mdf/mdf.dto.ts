import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { MAX_PROOFS, PERIOD_PATTERN } from '#libs/mdf/fund.js';
import { IsMoney, MoneyDto } from '../http/money.dto.js';
import { IsLedgerId, IsLedgerTime, OptionalMember, IsNotBlank } from '../http/validation.js';
import { PagedQueryDto, PositionQueryDto } from '../http/query.dto.js';

const PERIOD_MESSAGE = 'period must be a quarter, YYYY-Qn (e.g. 2026-Q1)';

export class AllocateMdfDto {
  @ApiProperty({ example: 'P-1001', pattern: ID_PATTERN.source })
  @IsLedgerId()
  partnerId!: string;

  @ApiProperty({ example: '2026-Q2', pattern: PERIOD_PATTERN.source })
  @IsString()
  @Matches(PERIOD_PATTERN, { message: PERIOD_MESSAGE })
  period!: string;

  @ApiProperty({ type: MoneyDto, description: 'Added to the fund; the first allocation fixes its currency.' })
  @IsMoney()
  amount!: MoneyDto;
}

export class RequestMdfDto {
  @ApiProperty({ example: 'MDF-REQ-0001', pattern: ID_PATTERN.source, description: 'Unique across every fund.' })
  @IsLedgerId()
  requestId!: string;

  @ApiProperty({ example: 'P-1001', pattern: ID_PATTERN.source, description: 'A partner key may only name itself.' })
  @IsLedgerId()
  partnerId!: string;

  @ApiProperty({ example: '2026-Q2', pattern: PERIOD_PATTERN.source })
  @IsString()
  @Matches(PERIOD_PATTERN, { message: PERIOD_MESSAGE })
  period!: string;

  @ApiProperty({ example: 'Joint webinar series', maxLength: 500 })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  activity!: string;

  @ApiProperty({ type: MoneyDto, description: 'At most what is available (allocated − approved + released).' })
  @IsMoney()
  amount!: MoneyDto;

  @ApiPropertyOptional({
    example: '2026-05-31',
    description: 'When the activity ends (business time): claims are due by activityEndsAt + mdfClaimDays (or, without it, approval + mdfClaimDays); later → 422 `claim-deadline-passed`.',
  })
  @OptionalMember()
  @IsLedgerTime()
  activityEndsAt?: string;
}

export class OptionalAmountDto {
  @ApiPropertyOptional({ type: MoneyDto, description: 'Part of it; absent = all of it.' })
  @OptionalMember()
  @IsMoney()
  amount?: MoneyDto;
}

export class SubmitClaimDto {
  @ApiProperty({ example: 'MDF-CLM-0001', pattern: ID_PATTERN.source, description: 'Unique across every fund.' })
  @IsLedgerId()
  claimId!: string;

  @ApiProperty({ type: MoneyDto, description: "At most what the request has approved and not yet claimed." })
  @IsMoney()
  amount!: MoneyDto;

  @ApiProperty({ type: [String], minItems: 1, maxItems: MAX_PROOFS, example: ['https://files.example.com/webinar-attendance.pdf'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PROOFS)
  @IsString({ each: true })
  @IsNotBlank({ each: true })
  @MaxLength(2000, { each: true })
  proofOfPerformance!: string[];
}

export class PayClaimDto {
  @ApiProperty({ example: '2026-05-15', description: 'Business time of the payment.' })
  @IsLedgerTime()
  paidAt!: string;

  @ApiProperty({ example: 'WIRE-2026-05-15-0042', maxLength: 500 })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  reference!: string;
}

export class ListFundsQueryDto extends PagedQueryDto {
  @ApiPropertyOptional({ example: 'P-1001', description: 'A partner key may only name itself.' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== '')
  @IsLedgerId()
  partnerId?: string;

  @ApiPropertyOptional({ example: '2026-Q2' })
  @IsOptional()
  @IsString()
  @Matches(PERIOD_PATTERN, { message: PERIOD_MESSAGE })
  period?: string;

}

export class ReleaseMdfDto {
  @ApiProperty({ example: '2026-09-30', description: 'Every approval whose claim deadline is before this instant gives back what no claim holds (MdfApprovalReleased).' })
  @IsLedgerTime()
  asOf!: string;
}

export class SetBudgetDto {
  @ApiProperty({
    type: MoneyDto,
    description: "The period's MDF budget in this currency (MdfBudgetSet). Allocations of the period never exceed it (422 `budget-exceeded`); below what is allocated → 422 `budget-below-allocated`.",
  })
  @IsMoney()
  amount!: MoneyDto;
}

export class ListBudgetsQueryDto extends PositionQueryDto {
  @ApiPropertyOptional({ example: '2026-Q2' })
  @IsOptional()
  @IsString()
  @Matches(PERIOD_PATTERN, { message: PERIOD_MESSAGE })
  period?: string;
}

export class ReleasedDto {
  @ApiProperty({ example: 'MDF-REQ-0001' })
  requestId!: string;
  @ApiProperty({ type: 'integer', example: 25000 })
  amountMinor!: number;
}

export class BudgetDto {
  @ApiProperty({ example: '2026-Q2' })
  period!: string;
  @ApiProperty({ example: 'USD' })
  currency!: string;
  @ApiProperty({ type: 'integer', example: 100000000 })
  budgetMinor!: number;
  @ApiProperty({ type: 'integer', example: 25000000, description: "Σ allocated to the period's funds in this currency." })
  allocatedMinor!: number;
  @ApiProperty({ type: 'integer', example: 75000000 })
  remainingMinor!: number;
}

export class BudgetListDto {
  @ApiProperty({ type: [BudgetDto] })
  items!: BudgetDto[];
}

export class MdfRequestViewDto {
  @ApiProperty() requestId!: string;
  @ApiProperty() partnerId!: string;
  @ApiProperty({ example: '2026-Q2' }) period!: string;
  @ApiProperty({ enum: ['requested', 'approved', 'rejected'] }) status!: string;
  @ApiProperty({ example: 'USD' }) currency!: string;
  @ApiProperty({ type: 'integer' }) requestedMinor!: number;
  @ApiProperty({ type: 'integer' }) approvedMinor!: number;
  @ApiProperty({ type: 'integer', description: 'Given back by release runs.' }) releasedMinor!: number;
  @ApiProperty({ type: 'integer', description: 'What claims hold: pending claims their amount, approved ones their approved amount.' }) claimedMinor!: number;
  @ApiProperty({ type: 'integer' }) claimApprovedMinor!: number;
  @ApiProperty({ type: 'integer' }) paidMinor!: number;
  @ApiPropertyOptional({ description: 'Claims are due by this instant (absent until approved).' }) claimDeadline?: string;
  @ApiPropertyOptional() activityEndsAt?: string;
}
