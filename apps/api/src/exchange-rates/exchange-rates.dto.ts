import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, registerDecorator, type ValidationOptions } from 'class-validator';
import { MAX_RATE_SIGNIFICANT_DIGITS } from '#libs/money/conversion.js';
import { isCurrency } from '#libs/money/currency.js';
import { IsLedgerTime, IsNotBlank } from '../http/validation.js';
import { PositionQueryDto } from '../http/query.dto.js';

/** An ISO 4217 code of money (the same list the ledger accepts in Money). */
function IsCurrencyCode(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isCurrencyCode',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: 'currency must be an ISO 4217 code such as EUR', ...options },
      validator: { validate: (v: unknown) => isCurrency(v) },
    });
}

export class PublishExchangeRateDto {
  @ApiProperty({ example: 'EUR', description: "ISO 4217: the currency converted from, into the program's reporting currency." })
  @IsCurrencyCode()
  currency!: string;

  @ApiProperty({ example: '2026-03-01', description: 'Business time from which the rate is in force (until a later date of the pair).' })
  @IsLedgerTime()
  date!: string;

  @ApiProperty({
    example: '1.0834',
    description: `Units of the reporting currency per unit of \`currency\`: a positive decimal string of up to ${MAX_RATE_SIGNIFICANT_DIGITS} significant digits (never a JSON number, so nothing is lost to floats).`,
  })
  @IsString()
  @MaxLength(40)
  rate!: string;

  @ApiProperty({ example: 'ECB', maxLength: 500, description: 'Where the rate comes from; recorded with every conversion that uses it.' })
  @IsString()
  @IsNotBlank()
  @MaxLength(500)
  source!: string;
}

export class ExchangeRateQueryDto extends PositionQueryDto {
  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @IsCurrencyCode()
  currency?: string;

  @ApiPropertyOptional({ example: '2026-03-15', description: 'With `currency`: answer the one rate in force at this instant (404 when none).' })
  @IsOptional()
  @IsLedgerTime()
  at?: string;
}

export class ExchangeRateDto {
  @ApiProperty({ example: 'EUR' })
  currency!: string;
  @ApiProperty({ example: 'USD' })
  reportingCurrency!: string;
  @ApiProperty({ example: '2026-03-01T00:00:00.000Z' })
  date!: string;
  @ApiProperty({ example: '1.0834' })
  rate!: string;
  @ApiProperty({ example: 'ECB' })
  source!: string;
  @ApiProperty({ example: '2026-03-01T08:00:00.000Z', description: 'Record time of the publication in force for that date.' })
  publishedAt!: string;
}

export class ExchangeRateListDto {
  @ApiProperty({ type: [ExchangeRateDto] })
  items!: ExchangeRateDto[];
}
