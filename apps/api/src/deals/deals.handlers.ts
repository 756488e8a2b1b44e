import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InvalidInput, NotFound } from '#libs/kernel/errors.js';
import { registrableDomain } from '#libs/partners/domain-name.js';
import { dealAsSeenBy, getDeal, listDeals, type DealFilter, type DealPage, type DealView } from '#projections/deals/deals.queries.js';
import { listConflicts, type ConflictFilter, type ConflictPage } from '#projections/registration-conflicts/registration-conflicts.queries.js';
import { ReadModels } from '#projections/runner/read-models.js';
import { customerAccountDecider, customerStreamId, directAt, isActive, registrationsOf } from '#libs/deals/customer-account.js';
import type { EventStore } from '#libs/event-store/port.js';
import { CommandPipeline } from '#libs/ledger/pipeline.js';
import { CLOCK, EVENT_STORE, type Clock } from '#libs/ledger/tokens.js';
import type { CommandOutcome } from '#libs/ledger/context.js';
import { StreamDealDirectory } from '#libs/ledger/deal-directory.js';
import { eventsOf } from '#events/envelope.js';
import type { DealRegistered } from '#events/deals.js';

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

/** What `POST /v1/deals` answers about the registration it recorded (or replayed), as `viewer` may see it. */
export class RegistrationAnswerQuery {
  constructor(readonly outcome: CommandOutcome, readonly dealId: string, readonly viewer?: string) {}
}

export interface RegistrationAnswer {
  readonly dealId: string;
  readonly status?: DealRegistered['data']['status'];
  readonly customerKey?: string;
  readonly conflictsWith: readonly string[];
  readonly conflictIds: readonly string[];
  readonly registeredAt?: string;
  readonly programVersion?: number;
  readonly externalRef?: string;
}

@QueryHandler(RegistrationAnswerQuery)
export class RegistrationAnswerHandler implements IQueryHandler<RegistrationAnswerQuery, RegistrationAnswer> {
  constructor(@Inject(StreamDealDirectory) private readonly directory: StreamDealDirectory) {}

  async execute({ outcome, dealId, viewer }: RegistrationAnswerQuery): Promise<RegistrationAnswer> {
    const registered = eventsOf<DealRegistered>(outcome.events, 'DealRegistered').find((e) => e.data.dealId === dealId)?.data;
    let conflictsWith: readonly string[] = registered?.conflictsWith ?? [];
    let conflictIds: readonly string[] = registered?.conflicts.map((c) => c.conflictId) ?? [];
    if (viewer !== undefined && conflictsWith.length > 0) {
      // A partner key learns that its registration is conflicted, not whose registrations it collides with.
      const owners = await Promise.all(conflictsWith.map(async (id) => ((await this.directory.find(id))?.partnerId === viewer ? id : undefined)));
      conflictsWith = owners.filter((id): id is string => id !== undefined);
      conflictIds = [];
    }
    return {
      dealId,
      status: registered?.status,
      customerKey: registered?.customerKey,
      conflictsWith,
      conflictIds,
      registeredAt: registered?.registeredAt,
      programVersion: registered?.programVersion,
      ...(registered?.externalRef !== undefined ? { externalRef: registered.externalRef } : {}),
    };
  }
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

export interface CustomerAccountView {
  readonly customerKey: string;
  readonly aliases: readonly string[];
  /** Set while direct sales own the account (marked, not released, `until` not passed). */
  readonly direct?: { readonly reason: string; readonly until?: string; readonly markedAt: string };
  /** Its submitted, conflicted and approved registrations, in registration order. */
  readonly activeRegistrations: readonly string[];
}

/** `customerKey`: any spelling of the account's domain (or of one of its aliases). */
export class GetCustomerAccountQuery {
  constructor(readonly customerKey: string, readonly minPosition?: bigint) {}
}

/** Reads the account's stream (through the pipeline's cached folds): current, not a lagging read model. */
@QueryHandler(GetCustomerAccountQuery)
export class GetCustomerAccountHandler implements IQueryHandler<GetCustomerAccountQuery, { position: bigint; value: CustomerAccountView }> {
  constructor(
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ReadModels) private readonly readModels: ReadModels,
  ) {}

  async execute(q: GetCustomerAccountQuery): Promise<{ position: bigint; value: CustomerAccountView }> {
    // Read-your-writes as every query: the read models follow the log, so once they reach minPosition so has it.
    await this.readModels.read(q.minPosition, () => undefined);
    const key = registrableDomain(q.customerKey);
    if (key === undefined) throw new InvalidInput(`${JSON.stringify(q.customerKey)} has no registrable domain`, {}, [{ path: 'customerKey', message: 'must be a registrable domain' }]);
    const position = await this.store.headPosition();
    let account = await this.pipeline.state(customerStreamId(key), customerAccountDecider);
    if (account.status === 'alias') account = await this.pipeline.state(customerStreamId(account.primaryKey), customerAccountDecider);
    if (account.status !== 'primary') throw new NotFound(`customer account ${q.customerKey} not found`);
    const direct = directAt(account, this.clock.now().toISOString());
    return {
      position,
      value: {
        customerKey: account.customerKey,
        aliases: account.aliases,
        ...(direct !== undefined ? { direct } : {}),
        activeRegistrations: registrationsOf(account).filter(isActive).map((r) => r.dealId),
      },
    };
  }
}
