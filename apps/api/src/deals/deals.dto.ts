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
import { DEAL_STATUSES } from '#events/deals.js';
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
  @ApiProperty({ example: '2026-07-01', description: 'Approved registrations whose protection ended before this instant expire.' })
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
