import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsISO31661Alpha2,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { DEAL_STATUSES, REJECTION_REASON_CODES } from '#events/deals.js';
import { ID_PATTERN } from '#libs/kernel/decider.js';
import { MAX_PRODUCTS } from '#libs/deals/customer-account.js';
import { CONFLICT_STATUSES } from '#projections/registration-conflicts/registration-conflicts.queries.js';
import { IsMoney, MoneyDto } from '../http/money.dto.js';
import { IsLedgerId, IsLedgerTime, OptionalMember, IsNotBlank } from '../http/validation.js';
import { PagedQueryDto } from '../http/query.dto.js';

export class DealCustomerDto {
  @ApiProperty({ example: 'Acme Ltd', maxLength: 500 })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  name!: string;

  @ApiProperty({ example: 'https://EU.Acme.co.uk/x', description: 'Any spelling: folded to its registrable domain (acme.co.uk), the customer key.' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  domain!: string;

  @ApiPropertyOptional({ example: 'GB', description: 'ISO 3166-1 alpha-2' })
  @OptionalMember()
  @IsISO31661Alpha2()
  country?: string;
}

export class RegisterDealDto {
  @ApiProperty({ example: 'D-2026-0042', pattern: ID_PATTERN.source })
  @IsLedgerId()
  dealId!: string;

  @ApiProperty({ example: 'P-1001', pattern: ID_PATTERN.source })
  @IsLedgerId()
  partnerId!: string;

  // @ValidateNested alone lets a missing object through; @IsObject makes it required.
  @ApiProperty({ type: DealCustomerDto })
  @IsObject()
  @ValidateNested()
  @Type(() => DealCustomerDto)
  customer!: DealCustomerDto;

  @ApiProperty({ type: [String], example: ['CRM-ENT', 'ANALYTICS'], minItems: 1, maxItems: MAX_PRODUCTS, uniqueItems: true })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PRODUCTS)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(ID_PATTERN, { each: true, message: `each product code must match ${ID_PATTERN.source}` })
  products!: string[];

  @ApiProperty({ type: MoneyDto })
  @IsMoney()
  estimatedValue!: MoneyDto;

  @ApiProperty({ example: '2026-06-30' })
  @IsLedgerTime()
  expectedCloseDate!: string;

  @ApiPropertyOptional({
    example: '2026-01-05',
    description:
      'Business date of a past registration being entered (channel-ops and admin keys only: 403 from a partner key). Default: the record time. First-to-register precedence, the review SLA and closed-before-registration use it.',
  })
  @OptionalMember()
  @IsLedgerTime()
  registeredAt?: string;

  @ApiPropertyOptional({ example: '006Hs00001AbCdE', maxLength: 500, description: 'The CRM opportunity id: stored, and searchable with GET /v1/deals?externalRef=.' })
  @OptionalMember()
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  externalRef?: string;
}

export class OverrideDto {
  @ApiProperty({ example: 'customer asked for this partner', maxLength: 500, description: 'Why the earlier pending registrations are set aside; recorded in DealRegistrationApproved.precedenceOverride.' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  reason!: string;
}

export class ApproveDealDto {
  @ApiPropertyOptional({
    type: OverrideDto,
    description:
      'First to register wins: approving while an earlier overlapping registration is still submitted or conflicted is refused with 409 earlier-registration-pending (naming earlierDealIds) unless this is given.',
  })
  @OptionalMember()
  @IsObject()
  @ValidateNested()
  @Type(() => OverrideDto)
  override?: OverrideDto;

  @ApiPropertyOptional({ example: '006Hs00001AbCdE', maxLength: 500, description: 'The CRM opportunity id; replaces the one given at registration.' })
  @OptionalMember()
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  externalRef?: string;
}

export class RejectDealDto {
  @ApiPropertyOptional({ enum: REJECTION_REASON_CODES, default: 'other', description: 'Why it was rejected; `reason` alone means `other`.' })
  @OptionalMember()
  @IsIn(REJECTION_REASON_CODES)
  reasonCode?: (typeof REJECTION_REASON_CODES)[number];

  @ApiProperty({ maxLength: 500, example: 'the customer already buys direct' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  reason!: string;
}

export class AliasDomainDto {
  @ApiProperty({ example: 'acme.de', description: 'Any spelling: folded to its registrable domain. It must have no active registration of its own (422 alias-has-registrations) and be no other account’s alias (409).' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  domain!: string;
}

export class MarkDirectDto {
  @ApiProperty({ maxLength: 500, example: 'strategic account, owned by direct sales' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  reason!: string;

  @ApiPropertyOptional({ example: '2026-12-31', description: 'Registrations are refused (409 direct-account) until this instant; without it, until released.' })
  @OptionalMember()
  @IsLedgerTime()
  until?: string;
}

export class ExtendDealDto {
  @ApiProperty({ type: 'integer', example: 30, minimum: 1, maximum: 3660, description: 'At most the program’s maxExtensionDays (422 beyond); one extension per registration.' })
  @IsInt()
  @Min(1)
  @Max(3660)
  days!: number;
}

export class DealWonDto {
  @ApiProperty({ type: MoneyDto })
  @IsMoney()
  amount!: MoneyDto;

  @ApiProperty({ example: '2026-05-15', description: 'Business time of the close; at or before the registration’s protectedUntil.' })
  @IsLedgerTime()
  closedAt!: string;
}

export class ExpireDealsDto {
  @ApiProperty({
    example: '2026-07-01',
    description:
      'Ends what is due at this instant: approved registrations whose protection ended before it (protection-ended), submitted or conflicted ones registered more than registrationReviewDays before it (review-lapsed), and active ones of terminated partners (partner-terminated).',
  })
  @IsLedgerTime()
  asOf!: string;
}

export class ListDealsQueryDto extends PagedQueryDto {
  @ApiPropertyOptional({ description: 'A partner key may only name itself (or nothing).' })
  @ValidateIf((o: ListDealsQueryDto) => o.partnerId !== undefined && o.partnerId !== '')
  @IsLedgerId()
  partnerId?: string;

  @ApiPropertyOptional({ enum: DEAL_STATUSES })
  @IsOptional()
  @IsIn(DEAL_STATUSES)
  status?: string;

  @ApiPropertyOptional({ example: 'www.acme.co.uk', description: 'Any spelling of the customer domain; folded to its registrable domain.' })
  @IsOptional()
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  customer?: string;

  @ApiPropertyOptional({ example: '006Hs00001AbCdE', description: 'Registrations carrying this CRM opportunity id.' })
  @IsOptional()
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  externalRef?: string;
}

export class ListConflictsQueryDto extends PagedQueryDto {
  @ApiPropertyOptional({ enum: CONFLICT_STATUSES })
  @IsOptional()
  @IsIn(CONFLICT_STATUSES)
  status?: string;

  @ApiPropertyOptional({ example: 'acme.co.uk', description: 'Any spelling of the customer domain.' })
  @IsOptional()
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  customer?: string;

  @ApiPropertyOptional({ description: 'Only conflicts this deal is a member of.' })
  @IsOptional()
  @IsLedgerId()
  dealId?: string;
}
