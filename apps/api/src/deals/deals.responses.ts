import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DEAL_STATUSES, EXPIRY_REASONS } from '#events/deals.js';
import { CommandResponse, MoneyResponse, NEXT_CURSOR } from '../platform/command.responses.js';

const STATUSES = [...DEAL_STATUSES];

export class DealCustomerResponse {
  @ApiProperty({ example: 'Contoso Ltd' })
  name!: string;
  @ApiProperty({ example: 'contoso.example' })
  domain!: string;
  @ApiPropertyOptional({ example: 'GB' })
  country?: string;
}

export class DealResponse {
  @ApiProperty({ example: 'D-2001' })
  dealId!: string;
  @ApiProperty({ example: 'P-1001' })
  partnerId!: string;
  @ApiProperty({ example: 'contoso.example', description: 'The customer\'s registrable domain' })
  customerKey!: string;
  @ApiProperty({ type: DealCustomerResponse })
  customer!: DealCustomerResponse;
  @ApiProperty({ type: [String], example: ['SKU-CLOUD'] })
  products!: string[];
  @ApiProperty({ type: MoneyResponse })
  estimatedValue!: MoneyResponse;
  @ApiProperty({ example: '2026-06-30' })
  expectedCloseDate!: string;
  @ApiProperty({ enum: STATUSES })
  status!: string;
  @ApiProperty({ format: 'date-time' })
  registeredAt!: string;
  @ApiProperty({ type: [String], description: 'The active registrations it overlapped when registered' })
  conflictsWith!: string[];
  @ApiPropertyOptional({ format: 'date-time' })
  approvedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' })
  protectedUntil?: string;
  @ApiPropertyOptional({ type: 'integer' })
  extendedDays?: number;
  @ApiPropertyOptional({ type: 'integer' })
  programVersion?: number;
  @ApiPropertyOptional({ format: 'date-time' })
  endedAt?: string;
  @ApiPropertyOptional({ description: 'Rejection or loss reason (`conflict-lost` when another registration was approved)' })
  reason?: string;
  @ApiPropertyOptional()
  winnerDealId?: string;
  @ApiPropertyOptional({ format: 'date-time' })
  closedAt?: string;
  @ApiPropertyOptional({ type: MoneyResponse })
  wonAmount?: MoneyResponse;
}

export class DealPageResponse {
  @ApiProperty({ type: [DealResponse] })
  items!: DealResponse[];
  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
}

export class ResolvedConflictResponse {
  @ApiProperty()
  conflictId!: string;
  @ApiPropertyOptional({ description: 'The registration that won it, when one did' })
  winnerDealId?: string;
}

export class DealCommandResponse extends CommandResponse {
  @ApiProperty({ example: 'D-2001' })
  dealId!: string;
  @ApiPropertyOptional({ enum: STATUSES, description: 'The status after the command' })
  status?: string;
  @ApiPropertyOptional({ description: 'Registration: the customer\'s registrable domain' })
  customerKey?: string;
  @ApiPropertyOptional({ type: [String], description: 'Registration: the active registrations it overlaps (a partner key sees its own only)' })
  conflictsWith?: string[];
  @ApiPropertyOptional({ type: [String] })
  conflictIds?: string[];
  @ApiPropertyOptional({ format: 'date-time' })
  protectedUntil?: string;
  @ApiPropertyOptional({ type: 'integer' })
  programVersion?: number;
  @ApiPropertyOptional({ type: [String], description: 'Approval: the overlapping registrations it rejected (conflict-lost)' })
  rejected?: string[];
  @ApiPropertyOptional({ type: [ResolvedConflictResponse], description: 'The registration conflicts the command closed' })
  resolvedConflicts?: ResolvedConflictResponse[];
  @ApiPropertyOptional({ type: 'integer', description: 'Extension: the days added' })
  days?: number;
}

export class ExpiredDealResponse {
  @ApiProperty({ example: 'D-2001' })
  dealId!: string;
  @ApiProperty({ enum: [...EXPIRY_REASONS] })
  reason!: string;
}

export class DealExpirationsResponse extends CommandResponse {
  @ApiProperty({ format: 'date-time' })
  asOf!: string;
  @ApiProperty({ type: [ExpiredDealResponse], description: 'The registrations expired, with why' })
  expired!: ExpiredDealResponse[];
}

export class CustomerAccountCommandResponse extends CommandResponse {
  @ApiProperty({ example: 'northwind.example.com', description: 'The account\'s canonical customer key' })
  customerKey!: string;
}

export class DirectMarkResponse {
  @ApiProperty({ example: 'strategic account' })
  reason!: string;
  @ApiPropertyOptional({ format: 'date-time' })
  until?: string;
  @ApiProperty({ format: 'date-time' })
  markedAt!: string;
}

export class CustomerAccountResponse {
  @ApiProperty({ example: 'northwind.example.com' })
  customerKey!: string;
  @ApiProperty({ type: [String], example: ['northwind.example.org'] })
  aliases!: string[];
  @ApiPropertyOptional({ type: DirectMarkResponse, description: 'Set while direct sales own the account' })
  direct?: DirectMarkResponse;
  @ApiProperty({ type: [String], description: 'Its submitted, conflicted and approved registrations, in registration order' })
  activeRegistrations!: string[];
}

export class RegistrationConflictResponse {
  @ApiProperty()
  conflictId!: string;
  @ApiProperty({ example: 'contoso.example' })
  customerKey!: string;
  @ApiProperty({ type: [String] })
  products!: string[];
  @ApiProperty({ type: [String] })
  dealIds!: string[];
  @ApiProperty({ enum: ['open', 'resolved'] })
  status!: string;
  @ApiPropertyOptional()
  winnerDealId?: string;
  @ApiProperty({ format: 'date-time' })
  openedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' })
  resolvedAt?: string;
}

export class RegistrationConflictPageResponse {
  @ApiProperty({ type: [RegistrationConflictResponse] })
  items!: RegistrationConflictResponse[];
  @ApiProperty(NEXT_CURSOR)
  nextCursor!: string | null;
}
