import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { listFunds, type FundFilter, type FundPage } from '#projections/mdf-funds/mdf-funds.queries.js';
import { ReadModels } from '#projections/runner/read-models.js';

export class ListFundsQuery {
  constructor(
    readonly filter: FundFilter,
    readonly minPosition?: bigint,
  ) {}
}

@QueryHandler(ListFundsQuery)
export class ListFundsHandler implements IQueryHandler<ListFundsQuery, { position: bigint; value: FundPage }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  execute(q: ListFundsQuery): Promise<{ position: bigint; value: FundPage }> {
    return this.readModels.read(q.minPosition, (db) => listFunds(db, q.filter));
  }
}
