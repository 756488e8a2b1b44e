import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Actor } from '#events/envelope.js';
import { PAYOUT_RUNS_STREAM_ID } from '#events/commissions.js';
import { payoutRunsDecider, type PayoutRun, type PayoutRunStatus } from '#libs/commissions/payouts.js';
import { NotFound } from '#libs/kernel/errors.js';
import { CommandPipeline } from '#libs/ledger/pipeline.js';
import { EVENT_STORE } from '#libs/ledger/tokens.js';
import type { EventStore } from '#libs/event-store/port.js';
import { decodeCursor, encodeCursor } from '#projections/cursor.js';
import { ReadModels } from '#projections/runner/read-models.js';

export interface PayoutRunView {
  readonly payoutId: string;
  readonly asOf: string;
  readonly currency: string;
  readonly planVersion: number;
  readonly minimumPayoutMinor: number;
  readonly status: PayoutRunStatus;
  readonly totalMinor: number;
  readonly lines: readonly {
    partnerId: string;
    amountMinor: number;
    currency: string;
    accruals: readonly { attributionId: string; creditType: string }[];
    status: 'unpaid' | 'paid';
    paidAt?: string;
    reference?: string;
  }[];
  readonly carriedForward: readonly { partnerId: string; amountMinor: number; currency: string; reason: string }[];
  readonly createdAt: string;
  readonly approvedAt?: string;
  readonly cancelledAt?: string;
  readonly cancelReason?: string;
}

/** A run as an actor may see it: a partner key sees only its own line and carry-forward (undefined: none). */
export function payoutRunView(run: PayoutRun, actor: Actor | undefined): PayoutRunView | undefined {
  return runViewFor(run, actor?.role === 'partner' ? actor.partnerId : undefined);
}

/** The run showing one partner's line and carry-forward only (undefined: it has neither), or all of it. */
function runViewFor(run: PayoutRun, partner: string | undefined): PayoutRunView | undefined {
  const lines = run.lines.filter((l) => partner === undefined || l.partnerId === partner);
  const carried = run.carriedForward.filter((c) => partner === undefined || c.partnerId === partner);
  if (partner !== undefined && lines.length === 0 && carried.length === 0) return undefined;
  return {
    payoutId: run.payoutId,
    asOf: run.asOf,
    currency: run.currency,
    planVersion: run.planVersion,
    minimumPayoutMinor: run.minimumPayoutMinor,
    status: run.status,
    totalMinor: lines.reduce((s, l) => s + l.amountMinor, 0),
    lines: lines.map((l) => ({
      partnerId: l.partnerId,
      amountMinor: l.amountMinor,
      currency: run.currency,
      accruals: l.accruals,
      status: l.paidAt !== undefined ? 'paid' : 'unpaid',
      ...(l.paidAt !== undefined ? { paidAt: l.paidAt } : {}),
      ...(l.reference !== undefined ? { reference: l.reference } : {}),
    })),
    carriedForward: carried.map((c) => ({ partnerId: c.partnerId, amountMinor: c.amountMinor, currency: run.currency, reason: c.reason })),
    createdAt: run.createdAt,
    ...(run.approvedAt !== undefined ? { approvedAt: run.approvedAt } : {}),
    ...(run.cancelledAt !== undefined ? { cancelledAt: run.cancelledAt } : {}),
    ...(run.cancelReason !== undefined ? { cancelReason: run.cancelReason } : {}),
  };
}

export class GetPayoutRunQuery {
  constructor(readonly payoutId: string, readonly actor: Actor | undefined, readonly minPosition?: bigint) {}
}

export class ListPayoutRunsQuery {
  /** `partnerId`: already restricted to the partner key's own (visiblePartnerFilter). */
  constructor(
    readonly status: PayoutRunStatus | undefined,
    readonly partnerId: string | undefined,
    readonly page: { readonly limit?: number; readonly cursor?: string },
    readonly minPosition?: bigint,
  ) {}
}

/** Runs are read from their stream (always current); `minPosition` still waits, as everywhere else. */
abstract class PayoutRunsReader {
  constructor(
    private readonly pipeline: CommandPipeline,
    private readonly store: EventStore,
    private readonly readModels: ReadModels,
  ) {}

  protected async runs(minPosition: bigint | undefined): Promise<{ position: bigint; runs: readonly PayoutRun[] }> {
    await this.readModels.reached(minPosition);
    const position = await this.store.headPosition();
    const state = await this.pipeline.state(PAYOUT_RUNS_STREAM_ID, payoutRunsDecider);
    return { position, runs: [...state.runs.values()] };
  }
}

@QueryHandler(GetPayoutRunQuery)
export class GetPayoutRunHandler extends PayoutRunsReader implements IQueryHandler<GetPayoutRunQuery, { position: bigint; value: PayoutRunView }> {
  constructor(@Inject(CommandPipeline) pipeline: CommandPipeline, @Inject(EVENT_STORE) store: EventStore, @Inject(ReadModels) readModels: ReadModels) {
    super(pipeline, store, readModels);
  }

  async execute(q: GetPayoutRunQuery): Promise<{ position: bigint; value: PayoutRunView }> {
    const { position, runs } = await this.runs(q.minPosition);
    const run = runs.find((r) => r.payoutId === q.payoutId);
    // A run without the partner's line answers as an unknown one: nothing of other partners leaks.
    const view = run === undefined ? undefined : payoutRunView(run, q.actor);
    if (view === undefined) throw new NotFound(`payout run ${q.payoutId} not found`);
    return { position, value: view };
  }
}

@QueryHandler(ListPayoutRunsQuery)
export class ListPayoutRunsHandler extends PayoutRunsReader implements IQueryHandler<ListPayoutRunsQuery, { position: bigint; value: { items: PayoutRunView[]; nextCursor: string | null } }> {
  constructor(@Inject(CommandPipeline) pipeline: CommandPipeline, @Inject(EVENT_STORE) store: EventStore, @Inject(ReadModels) readModels: ReadModels) {
    super(pipeline, store, readModels);
  }

  /** Runs in creation order (the stream's, append-only): a cursor is the creation index of the last run a page returned. */
  async execute(q: ListPayoutRunsQuery): Promise<{ position: bigint; value: { items: PayoutRunView[]; nextCursor: string | null } }> {
    const { position, runs } = await this.runs(q.minPosition);
    const limit = q.page.limit ?? 100;
    const after = q.page.cursor === undefined ? -1 : Number(decodeCursor(q.page.cursor, [/^\d{1,9}$/])[0]);
    const items: PayoutRunView[] = [];
    let last = -1;
    let more = false;
    for (let i = after + 1; i < runs.length; i++) {
      const r = runs[i]!;
      if (q.status !== undefined && r.status !== q.status) continue;
      const view = runViewFor(r, q.partnerId);
      if (view === undefined) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(view);
      last = i;
    }
    return { position, value: { items, nextCursor: more ? encodeCursor([String(last)]) : null } };
  }
}
