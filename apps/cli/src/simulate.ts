import { performance } from 'node:perf_hooks';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import type Database from 'better-sqlite3';
import { InvalidArgumentError, type Command } from 'commander';
import { openEventStore, readModelsFile } from '#libs/event-store/open.js';
import type { EventStore } from '#libs/event-store/port.js';
import type { NoteSigner } from '#libs/event-store/checkpoint.js';
import { loadCheckpointSigner } from '#libs/ledger/checkpoint-key.js';
import { loadConfig, type LedgerConfig } from '#libs/ledger/config.js';
import { ledgerProviders } from '#libs/ledger/ledger.providers.js';
import { CommandPipeline } from '#libs/ledger/pipeline.js';
import { issueStatement, readStatement, restatementOf, type StatementSourceIndex } from '#libs/ledger/statements.js';
import { statementSourceIndex } from '#projections/statement-sources/statement-sources.index.js';
import { EVENT_STORE, type Clock } from '#libs/ledger/tokens.js';
import { ALL_PROJECTIONS } from '#projections/index.js';
import { READ_MODELS_DB, readModelProviders } from '#projections/runner/providers.js';
import { ProjectionRunner } from '#projections/runner/runner.js';
import { progress } from './progress.js';
import { DEFAULT_STATEMENTS_PER_QUARTER, Simulation, SimulationClock, type SimulationResult, type StatementPorts } from './simulation/scenario.js';

export interface SimulateOptions {
  readonly seed: number;
  readonly partners: number;
  readonly deals: number;
  readonly months: number;
  /** 00:00 UTC of the first day; by default the first of the month `months` months ago (see `defaultStart`). */
  readonly start?: Date;
  readonly config?: LedgerConfig;
  /** Partner statements issued after each quarter's payout run (default 3; 0: none). */
  readonly statementsPerQuarter?: number;
  readonly onProgress?: (day: number, days: number) => void;
  /** The statements read back at the end (each recomputed at the head for its restatement). */
  readonly onStatementsProgress?: (done: number, total: number) => void;
}

export interface SimulateSummary extends SimulationResult {
  readonly store: string;
  readonly dataDir: string;
  /** The log's head after the run. */
  readonly position: string;
  /** Wall-clock time of the simulation proper (the commands and the read models they needed), not the start-up. */
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

/** A store that already has events: the simulation writes a history from its beginning, so it needs an empty one. */
export class NonEmptyStoreError extends Error {
  override readonly name = 'NonEmptyStoreError';
}

/**
 * The history ends where the current month begins, so that every record time is in the past and a service
 * started on it right away sees a program with a trailing year behind it. Pass `--start` to pin a log: the same
 * seed, sizes and start give the same log, byte for byte.
 */
export function defaultStart(months: number, now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, 1));
}

/** The ledger's command and read sides on the configured store, without HTTP: what the simulation drives. */
@Module({})
class SimulationModule {
  static forRoot(config: LedgerConfig, clock: Clock): DynamicModule {
    return {
      module: SimulationModule,
      imports: [CqrsModule.forRoot()],
      providers: [
        ...ledgerProviders({ openStore: () => openEventStore(config), clock }),
        ...readModelProviders({ file: readModelsFile(config.dataDir), projections: ALL_PROJECTIONS, consistencyTimeoutMs: config.consistencyTimeoutMs }),
      ],
    };
  }
}

/**
 * Statements as the service issues and reads them (apps/api StatementsService): `issueStatement` through the
 * pipeline, signed with the checkpoint key `serve` uses (`LEDGER_CHECKPOINT_KEY`, else `<dataDir>/checkpoint.key`,
 * created here on the first statement if missing), so the service started on this data directory serves and
 * verifies them with the same key; the restatement is `restatementOf` at the head, as `GET /v1/statements/{id}`.
 * Both read the partner's events through the runner's statement-sources index, as the service does (exact
 * whatever the index's progress: what it has not reached is read from the log).
 */
function statementPorts(store: EventStore, pipeline: CommandPipeline, config: LedgerConfig, index: StatementSourceIndex | undefined): StatementPorts {
  let signer: NoteSigner | undefined;
  const say = config.logLevel === 'silent' ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  return {
    issue: (ctx, request) => issueStatement(pipeline, store, (signer ??= loadCheckpointSigner(config.dataDir, process.env, say)), ctx, request, index),
    async restatement(statementId) {
      const issued = await readStatement(store, statementId);
      if (issued === undefined) throw new Error(`statement ${statementId} was issued but cannot be read back`);
      return restatementOf(store, issued, await store.headPosition(), index);
    },
  };
}

/**
 * Builds the ledger on the configured store and data directory (not listening), and drives a simulated
 * program history through its CommandBus with a clock that walks business time. Read models follow in batches:
 * the projection runner is stopped and caught up before the month-end runs that read them, and at the end.
 */
export async function simulate(options: SimulateOptions): Promise<SimulateSummary> {
  const loaded = options.config ?? loadConfig();
  // Command-by-command log lines would drown the progress bar; LOG_LEVEL still wins when it is set.
  const config: LedgerConfig = { ...loaded, logLevel: options.config !== undefined || process.env.LOG_LEVEL ? loaded.logLevel : 'warn' };
  const start = options.start ?? defaultStart(options.months, new Date());
  const clock = new SimulationClock(start.getTime());
  // Nothing is served: the first `npm start` on this data directory creates the admin key as usual.
  const app = await NestFactory.createApplicationContext(SimulationModule.forRoot(config, clock), { logger: ['error'] });
  await app.init();
  try {
    const store = app.get<EventStore>(EVENT_STORE);
    const head = await store.headPosition();
    if (head > 0n) {
      throw new NonEmptyStoreError(`the store already has events (up to position ${head}): simulate writes a program's history from its beginning; point LEDGER_DATA_DIR at a new directory`);
    }
    const runner = app.get(ProjectionRunner);
    await runner.stop();
    const started = performance.now();
    const simulation = new Simulation(
      {
        seed: options.seed,
        partners: options.partners,
        deals: options.deals,
        months: options.months,
        start,
        statementsPerQuarter: options.statementsPerQuarter ?? DEFAULT_STATEMENTS_PER_QUARTER,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.onStatementsProgress ? { onStatementsProgress: options.onStatementsProgress } : {}),
      },
      { commands: app.get(CommandBus), clock, catchUp: () => runner.catchUp(), statements: statementPorts(store, app.get(CommandPipeline), config, statementSourceIndex(runner)) },
    );
    const result = await simulation.run();
    const seconds = (performance.now() - started) / 1000;
    await runner.catchUp();
    return {
      ...result,
      store: config.store,
      dataDir: config.dataDir,
      position: (await store.headPosition()).toString(),
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSecond: Math.round(result.eventsWritten / Math.max(seconds, 0.001)),
    };
  } finally {
    await app.get(ProjectionRunner).stop();
    await app.close();
    await app.get<EventStore>(EVENT_STORE).close();
    app.get<Database.Database>(READ_MODELS_DB).close();
  }
}

function formatSummary(s: SimulateSummary): string {
  const lines: string[] = [];
  const total = Object.values(s.commands).reduce((a, t) => ({ issued: a.issued + t.issued, refused: a.refused + t.refused }), { issued: 0, refused: 0 });
  const list = (counts: Readonly<Record<string, number>>) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
  lines.push(`Simulated ${s.months} months of a channel program (seed ${s.seed}, ${s.partners} partners, ${s.deals} deal registrations), business time ${s.from.slice(0, 10)} to ${s.to.slice(0, 10)}`);
  lines.push(`into ${s.store} at ${s.dataDir}; reproduce with: ledger simulate --seed ${s.seed} --partners ${s.partners} --deals ${s.deals} --months ${s.months} --start ${s.from.slice(0, 10)}`);
  lines.push('');
  lines.push(`Commands: ${total.issued} issued, ${total.issued - total.refused} recorded, ${total.refused} refused`);
  const width = Math.max(...Object.keys(s.commands).map((k) => k.length));
  for (const [kind, t] of Object.entries(s.commands)) lines.push(`  ${kind.padEnd(width)} ${String(t.issued).padStart(7)}${t.refused ? `  (${t.refused} refused)` : ''}`);
  lines.push('');
  lines.push(`Refused, by reason (${total.refused}):`);
  for (const [reason, n] of Object.entries(s.refusals)) lines.push(`  ${String(n).padStart(6)}  ${reason}`);
  lines.push('');
  lines.push(`Events written: ${s.eventsWritten} (${s.eventsPerSecond} events/s over ${s.seconds.toFixed(1)} s); final position ${s.position}`);
  lines.push(`Partners: ${list(s.partnersByStatus)}; tiers: ${list(s.partnersByTier)}`);
  lines.push(`Deals: ${list(s.dealsByStatus)}`);
  const st = s.statements;
  lines.push(
    `Statements: ${st.issued} issued (after each quarter's payout run, to the ${st.perQuarter} partners with the most revenue in the quarter), ` +
      `${st.restated} restated since issue${st.restated ? `: ${st.restatedIds.slice(0, 12).join(', ')}${st.restated > 12 ? ` and ${st.restated - 12} more (--json lists them)` : ''}` : ''}`,
  );
  const r = st.lateRefund;
  if (r) {
    lines.push(
      `  late refund: ${r.attributionId} reversed ${r.amountMinor} ${r.currency} minor units (${r.reversedReportingMinor} of ${r.partnerId}'s ${r.creditType} revenue, ` +
        `${r.clawedBackMinor} commission clawed back) dated ${r.reversedAt.slice(0, 10)}, booked ${r.bookedAt.slice(0, 16).replace('T', ' ')} ` +
        `after ${r.statementId} (${r.partnerId}, ${r.period}) was issued; GET /v1/statements/${r.statementId} now restates:`,
    );
    for (const c of r.changes) lines.push(`    ${c.path}: ${JSON.stringify(c.issued)} -> ${JSON.stringify(c.now)}`);
  }
  return `${lines.join('\n')}\n`;
}

function count(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return Number(value);
  };
}

function firstDay(value: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!d || d.toISOString().slice(0, 10) !== value || d.getUTCFullYear() < 1971) throw new InvalidArgumentError('a date like 2025-01-01');
  return d;
}

/** `ledger simulate`: a deterministic, realistic program history through the command handlers. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('write a deterministic, realistic channel program history into an empty store (a populated demo, a benchmark workload)')
    .option('--seed <n>', 'seed of every random choice', count('--seed', 0, 0xffffffff), 42)
    .option('--partners <n>', 'partners enrolled', count('--partners', 1, 100_000), 20)
    .option('--deals <n>', 'deal registrations attempted', count('--deals', 0, 10_000_000), 200)
    .option('--months <n>', 'calendar months of business time', count('--months', 1, 240), 12)
    .option('--start <date>', 'first simulated day (default: the first of the month, <months> months ago)', firstDay)
    .option('--statements <n>', "partner statements after each quarter's payout run, to the partners with the most revenue in the quarter (0: none)", count('--statements', 0, 100_000), DEFAULT_STATEMENTS_PER_QUARTER)
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { seed: number; partners: number; deals: number; months: number; start?: Date; statements: number; json?: boolean }) => {
      const start = opts.start ?? defaultStart(opts.months, new Date());
      const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + opts.months, start.getUTCDate()));
      if (end.getTime() > Date.now()) process.stderr.write(`note: the history runs until ${end.toISOString().slice(0, 10)}, after today: record times will be in the future\n`);
      const bar = progress('simulate (days)');
      let readBack: ReturnType<typeof progress> | undefined;
      let summary: SimulateSummary;
      try {
        summary = await simulate({
          ...opts,
          start,
          statementsPerQuarter: opts.statements,
          onProgress: (day, days) => bar.update(day, days),
          onStatementsProgress: (done, total) => (readBack ??= progress('simulate (statements read back)')).update(done, total),
        });
      } catch (error) {
        if (error instanceof NonEmptyStoreError) program.error(error.message);
        throw error;
      }
      const refused = Object.values(summary.commands).reduce((n, t) => n + t.refused, 0);
      const issued = Object.values(summary.commands).reduce((n, t) => n + t.issued, 0);
      bar.finish(`${summary.eventsWritten} events from ${issued} commands (${refused} refused), position ${summary.position}`);
      readBack?.finish(`${summary.statements.issued} statements issued, ${summary.statements.restated} restated since issue`);
      process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
    });
}
