import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandResponse, MoneyResponse, NEXT_CURSOR } from '../platform/command.responses.js';

export class MdfCommandResponse extends CommandResponse {
  @ApiPropertyOptional({ example: 'MR-3001' })
  requestId?: string;
  @ApiPropertyOptional({ example: 'MC-4001' })
  claimId?: string;
  @ApiPropertyOptional({ example: 'P-1001' })
  partnerId?: string;
  @ApiPropertyOptional({ example: '2026-Q2' })
  period?: string;
  @ApiPropertyOptional({ enum: ['requested', 'approved', 'rejected', 'submitted', 'paid'], description: 'The request\'s or claim\'s status after the command' })
  status?: string;
  @ApiPropertyOptional({ type: MoneyResponse })
  amount?: MoneyResponse;
}

export class MdfFundResponse {
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: '2026-Q2' })
  period!: string;
  @ApiProperty({ example: 'EUR' })
  currency!: string;
  @ApiProperty({ type: 'integer' })
  allocatedMinor!: number;
  @ApiProperty({ type: 'integer' })
  approvedMinor!: number;
  @ApiProperty({ type: 'integer', description: 'Claims submitted and not rejected' })
  claimedMinor!: number;
  @ApiProperty({ type: 'integer' })
  paidMinor!: number;
  @ApiProperty({ type: 'integer', description: 'allocated − approved' })
  availableMinor!: number;
}

export class MdfFundPageResponse {
  @ApiProperty({ type: [MdfFundResponse] })
  items!: MdfFundResponse[];
  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
}

export class MdfReleasedApprovalResponse {
  @ApiProperty({ example: 'MR-3001' })
  requestId!: string;
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: '2026-Q2' })
  period!: string;
  @ApiProperty({ type: 'integer', description: 'What the release gave back' })
  amountMinor!: number;
  @ApiProperty({ example: 'EUR' })
  currency!: string;
}

export class MdfReleaseRunResponse extends CommandResponse {
  @ApiProperty({ type: [MdfReleasedApprovalResponse], description: 'The approvals released by this run' })
  released!: MdfReleasedApprovalResponse[];
}

export class MdfBudgetSetResponse extends CommandResponse {
  @ApiProperty({ example: '2026-Q2' })
  period!: string;
  @ApiProperty({ type: MoneyResponse })
  amount!: MoneyResponse;
}
