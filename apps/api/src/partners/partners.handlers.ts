import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { NotFound } from '#libs/kernel/errors.js';
import { CLOCK, type Clock } from '#libs/ledger/tokens.js';
import { getPartner, listPartners, type PartnerFilter, type PartnerPage, type PartnerView } from '#projections/partners/partners.queries.js';
import { ReadModels } from '#projections/runner/read-models.js';

export class GetPartnerQuery {
  constructor(readonly partnerId: string, readonly minPosition?: bigint) {}
}

export class ListPartnersQuery {
  constructor(readonly filter: PartnerFilter, readonly minPosition?: bigint) {}
}

@QueryHandler(GetPartnerQuery)
export class GetPartnerHandler implements IQueryHandler<GetPartnerQuery, { position: bigint; value: PartnerView }> {
  constructor(
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(q: GetPartnerQuery): Promise<{ position: bigint; value: PartnerView }> {
    const r = await this.readModels.read(q.minPosition, (db) => getPartner(db, q.partnerId, this.clock.now()));
    if (!r.value) throw new NotFound(`partner ${q.partnerId} not found`);
    return { position: r.position, value: r.value };
  }
}

@QueryHandler(ListPartnersQuery)
export class ListPartnersHandler implements IQueryHandler<ListPartnersQuery, { position: bigint; value: PartnerPage }> {
  constructor(
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: ListPartnersQuery): Promise<{ position: bigint; value: PartnerPage }> {
    return this.readModels.read(q.minPosition, (db) => listPartners(db, q.filter, this.clock.now()));
  }
}
