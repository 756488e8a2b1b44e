import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { NotFound } from '#libs/kernel/errors.js';
import { dealAsSeenBy, getDeal, listDeals, type DealFilter, type DealPage, type DealView } from '#projections/deals/deals.queries.js';
import { listConflicts, type ConflictFilter, type ConflictPage } from '#projections/registration-conflicts/registration-conflicts.queries.js';
import { ReadModels } from '#projections/runner/read-models.js';

/** `viewer`: the partnerId of a partner key, whose answers name no other partner's deals. */
export class GetDealQuery {
  constructor(readonly dealId: string, readonly minPosition?: bigint, readonly viewer?: string) {}
}

export class ListDealsQuery {
  constructor(readonly filter: DealFilter, readonly minPosition?: bigint, readonly viewer?: string) {}
}

export class ListConflictsQuery {
  constructor(readonly filter: ConflictFilter, readonly minPosition?: bigint) {}
}

@QueryHandler(GetDealQuery)
export class GetDealHandler implements IQueryHandler<GetDealQuery, { position: bigint; value: DealView }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  async execute(q: GetDealQuery): Promise<{ position: bigint; value: DealView }> {
    const r = await this.readModels.read(q.minPosition, (db) => {
      const view = getDeal(db, q.dealId);
      return view !== undefined && q.viewer !== undefined ? dealAsSeenBy(db, view, q.viewer) : view;
    });
    // Another partner's deal is invisible to a partner key, not forbidden: its existence is not disclosed.
    if (!r.value || (q.viewer !== undefined && r.value.partnerId !== q.viewer)) throw new NotFound(`deal ${q.dealId} not found`);
    return { position: r.position, value: r.value };
  }
}

@QueryHandler(ListDealsQuery)
export class ListDealsHandler implements IQueryHandler<ListDealsQuery, { position: bigint; value: DealPage }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  execute(q: ListDealsQuery): Promise<{ position: bigint; value: DealPage }> {
    return this.readModels.read(q.minPosition, (db) => {
      const page = listDeals(db, q.filter);
      const viewer = q.viewer;
      return viewer === undefined ? page : { ...page, items: page.items.map((d) => dealAsSeenBy(db, d, viewer)) };
    });
  }
}

@QueryHandler(ListConflictsQuery)
export class ListConflictsHandler implements IQueryHandler<ListConflictsQuery, { position: bigint; value: ConflictPage }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  execute(q: ListConflictsQuery): Promise<{ position: bigint; value: ConflictPage }> {
    return this.readModels.read(q.minPosition, (db) => listConflicts(db, q.filter));
  }
}
