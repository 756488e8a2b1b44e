import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { COMMISSION_PLAN_STREAM_ID, type CommissionPlanEvent } from '#events/commissions.js';
import { DEFAULT_COMMISSION_PLAN, type CommissionPlan } from '#libs/commissions/plan.js';
import type { EventStore } from '#libs/event-store/port.js';
import { CLOCK, EVENT_STORE, type Clock } from '#libs/ledger/tokens.js';
import { commissionBalances, listCommissions, type CommissionBalance, type CommissionEntry, type CommissionFilter } from '#projections/commissions/commission-balances.queries.js';
import { ReadModels } from '#projections/runner/read-models.js';

export class GetCommissionPlanQuery {
  constructor(readonly minPosition?: bigint) {}
}

export type CommissionPlanView = CommissionPlan & { definedAt?: string };

/** The commission plan in force, read from its stream at the log's head. */
@QueryHandler(GetCommissionPlanQuery)
export class GetCommissionPlanHandler implements IQueryHandler<GetCommissionPlanQuery, { position: bigint; value: CommissionPlanView }> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ReadModels) private readonly readModels: ReadModels,
  ) {}

  async execute(q: GetCommissionPlanQuery): Promise<{ position: bigint; value: CommissionPlanView }> {
    await this.readModels.reached(q.minPosition);
    const [events, head] = await Promise.all([this.store.readStream<CommissionPlanEvent>(COMMISSION_PLAN_STREAM_ID), this.store.headPosition()]);
    const last = events[events.length - 1];
    return { position: head, value: last ? { ...last.data } : DEFAULT_COMMISSION_PLAN };
  }
}

export class ListCommissionsQuery {
  constructor(readonly filter: CommissionFilter, readonly minPosition?: bigint) {}
}

@QueryHandler(ListCommissionsQuery)
export class ListCommissionsHandler implements IQueryHandler<ListCommissionsQuery, { position: bigint; value: { items: CommissionEntry[] } }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  execute(q: ListCommissionsQuery): Promise<{ position: bigint; value: { items: CommissionEntry[] } }> {
    return this.readModels.read(q.minPosition, (db) => listCommissions(db, q.filter));
  }
}

/** `asOf` undefined: now. */
export class CommissionBalancesQuery {
  constructor(readonly partnerId: string | undefined, readonly asOf: Date | undefined, readonly minPosition?: bigint) {}
}

@QueryHandler(CommissionBalancesQuery)
export class CommissionBalancesHandler implements IQueryHandler<CommissionBalancesQuery, { position: bigint; value: { asOf: string; items: CommissionBalance[] } }> {
  constructor(
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute(q: CommissionBalancesQuery): Promise<{ position: bigint; value: { asOf: string; items: CommissionBalance[] } }> {
    const asOf = q.asOf ?? this.clock.now();
    return this.readModels.read(q.minPosition, (db) => commissionBalances(db, q.partnerId !== undefined ? { partnerId: q.partnerId } : {}, asOf));
  }
}
