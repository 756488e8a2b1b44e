import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '#events/envelope.js';
import type { NoteSigner } from '#libs/event-store/checkpoint.js';
import type { EventStore } from '#libs/event-store/port.js';
import { NotFound } from '#libs/kernel/errors.js';
import type { CommandContext, CommandOutcome } from '#libs/ledger/context.js';
import { CommandPipeline } from '#libs/ledger/pipeline.js';
import {
  issueStatement,
  listStatements,
  readStatement,
  restatementOf,
  verifyStatement,
  type IssuedStatement,
  type Restatement,
  type StatementSourceIndex,
  type StatementVerification,
} from '#libs/ledger/statements.js';
import { CHECKPOINT_SIGNER, EVENT_STORE } from '#libs/ledger/tokens.js';
import { ReadModels } from '#projections/runner/read-models.js';
import { ProjectionRunner } from '#projections/runner/runner.js';
import { statementSourceIndex } from '#projections/statement-sources/statement-sources.index.js';

export type StatementView = Omit<IssuedStatement, 'verifierKey'> & { restatement: Restatement };

/** Partner statements (API.md, "Partner statements"): issue through the pipeline, read with restatement, verify. */
@Injectable()
export class StatementsService {
  /** Where each partner's statement events are (the statement-sources read model): a statement reads those only. */
  private readonly index: StatementSourceIndex | undefined;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CommandPipeline) private readonly pipeline: CommandPipeline,
    @Inject(CHECKPOINT_SIGNER) private readonly signer: NoteSigner,
    @Inject(ReadModels) private readonly readModels: ReadModels,
    @Inject(ProjectionRunner) runner: ProjectionRunner,
  ) {
    this.index = statementSourceIndex(runner);
  }

  issue(ctx: CommandContext, request: { statementId: string; partnerId: string; period: string }): Promise<CommandOutcome> {
    return issueStatement(this.pipeline, this.store, this.signer, ctx, request, this.index);
  }

  /** The statement with its restatement at the head; a partner key asking for another partner's gets a 404, as for an unknown id. */
  async get(statementId: string, actor?: Actor, minPosition?: bigint): Promise<{ position: bigint; value: StatementView }> {
    await this.readModels.reached(minPosition);
    const issued = await readStatement(this.store, statementId);
    if (issued === undefined || (actor?.role === 'partner' && actor.partnerId !== issued.partnerId)) throw new NotFound(`statement ${statementId} not found`);
    const head = await this.store.headPosition();
    return { position: head, value: await this.view(issued, head) };
  }

  async list(filter: { partnerId?: string; period?: string }, minPosition?: bigint): Promise<{ position: bigint; value: { items: StatementView[] } }> {
    await this.readModels.reached(minPosition);
    const head = await this.store.headPosition();
    const issued = await listStatements(this.store, filter);
    const items: StatementView[] = [];
    for (const s of issued) items.push(await this.view(s, head));
    return { position: head, value: { items } };
  }

  verify(statement: Readonly<Record<string, unknown>>): Promise<StatementVerification> {
    return verifyStatement(this.store, this.signer.publicKey, statement, this.index);
  }

  private async view(issued: IssuedStatement, head: bigint): Promise<StatementView> {
    const { verifierKey: _key, ...statement } = issued;
    return { ...statement, restatement: await restatementOf(this.store, issued, head, this.index) };
  }
}
