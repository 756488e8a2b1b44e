import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Actor } from '#events/envelope.js';
import type { MdfEvent, MdfRequestIdReserved } from '#events/mdf.js';
import type { EventStore } from '#libs/event-store/port.js';
import { NotFound } from '#libs/kernel/errors.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';
import { fundDecider } from '#libs/mdf/fund.js';
import { foldReservations, requestIdStreamId } from '#libs/mdf/ids.js';
import { listBudgets, listFunds, type BudgetView, type FundFilter, type FundPage } from '#projections/mdf-funds/mdf-funds.queries.js';
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

export class ListBudgetsQuery {
  constructor(
    readonly period: string | undefined,
    readonly minPosition?: bigint,
  ) {}
}

@QueryHandler(ListBudgetsQuery)
export class ListBudgetsHandler implements IQueryHandler<ListBudgetsQuery, { position: bigint; value: { items: readonly BudgetView[] } }> {
  constructor(@Inject(ReadModels) private readonly readModels: ReadModels) {}

  execute(q: ListBudgetsQuery): Promise<{ position: bigint; value: { items: readonly BudgetView[] } }> {
    return this.readModels.read(q.minPosition, (db) => listBudgets(db, q.period !== undefined ? { period: q.period } : {}));
  }
}

export class GetMdfRequestQuery {
  constructor(
    readonly requestId: string,
    readonly actor: Actor,
    readonly minPosition?: bigint,
  ) {}
}

export interface MdfRequestView {
  readonly requestId: string;
  readonly partnerId: string;
  readonly period: string;
  readonly status: string;
  readonly currency: string;
  readonly requestedMinor: number;
  readonly approvedMinor: number;
  readonly releasedMinor: number;
  readonly claimedMinor: number;
  readonly claimApprovedMinor: number;
  readonly paidMinor: number;
  readonly claimDeadline?: string;
  readonly activityEndsAt?: string;
}

/** A request as its fund stream has it now (the request id's reservation names the fund): always current. */
@QueryHandler(GetMdfRequestQuery)
export class GetMdfRequestHandler implements IQueryHandler<GetMdfRequestQuery, { position: bigint; value: MdfRequestView }> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ReadModels) private readonly readModels: ReadModels,
  ) {}

  async execute(q: GetMdfRequestQuery): Promise<{ position: bigint; value: MdfRequestView }> {
    await this.readModels.reached(q.minPosition);
    const position = await this.store.headPosition();
    const reservation = foldReservations<MdfRequestIdReserved>(await this.store.readStream(requestIdStreamId(q.requestId)), 'MdfRequestIdReserved');
    const missing = new NotFound(`MDF request ${q.requestId} not found`);
    if (reservation.status === 'free') throw missing;
    // A partner key sees its own requests only; another partner's is as absent as an unknown one.
    if (q.actor.role === 'partner' && q.actor.partnerId !== reservation.reservation.partnerId) throw missing;
    let fund = fundDecider.initialState();
    for (const e of await this.store.readStream<MdfEvent>(reservation.reservation.fundStreamId)) fund = fundDecider.evolve(fund, e);
    const r = fund.status === 'open' ? fund.requests.get(q.requestId) : undefined;
    if (fund.status !== 'open' || r === undefined) throw missing;
    return {
      position,
      value: {
        requestId: r.requestId,
        partnerId: fund.partnerId,
        period: fund.period,
        status: r.status,
        currency: fund.currency,
        requestedMinor: r.requestedMinor,
        approvedMinor: r.approvedMinor,
        releasedMinor: r.releasedMinor,
        claimedMinor: r.claimedMinor,
        claimApprovedMinor: r.claimApprovedMinor,
        paidMinor: r.paidMinor,
        ...(r.claimDeadline !== undefined ? { claimDeadline: r.claimDeadline } : {}),
        ...(r.activityEndsAt !== undefined ? { activityEndsAt: r.activityEndsAt } : {}),
      },
    };
  }
}
