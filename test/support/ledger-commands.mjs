// Runs one command through the compiled ledger library (dist/) on a SQLite store, with a clock fixed by the
// caller. With `killAfterClaim`, the process SIGKILLs itself right after its claim append was acknowledged:
// the crash between a multi-stream command's two appends. `npm run build` must have run.
import { SqliteEventStore } from '#libs/event-store/sqlite/sqlite-event-store.js';
import { commandContext } from '#libs/ledger/context.js';
import { RegisterDealHandler, RegisterDealCommand } from '#libs/ledger/deals.commands.js';
import { AllocateMdfHandler, AllocateMdfCommand, RequestMdfHandler, RequestMdfCommand } from '#libs/ledger/mdf.commands.js';
import { EnrollPartnerCommand, EnrollPartnerHandler, PartnerCommandHandler, PartnerCommandMessage } from '#libs/ledger/partners.commands.js';
import { CommandPipeline } from '#libs/ledger/pipeline.js';
import { StreamDealDirectory } from '#libs/ledger/deal-directory.js';
import { DefineProgramCommand, DefineProgramHandler, ProgramInForce } from '#libs/ledger/program.commands.js';

/** Builds the handlers of one process: `now` is the fixed record time; `killAfterClaim` a claim stream prefix. */
export function ledgerOn(file, now, killAfterClaim) {
  const store = SqliteEventStore.open(file);
  const clock = { now: () => new Date(now) };
  const observer = killAfterClaim
    ? { appended: (a) => (a.outcome === 'ok' && a.streamId.startsWith(killAfterClaim) ? process.kill(process.pid, 'SIGKILL') : undefined) }
    : {};
  // Killed after the claim: its own append, as on EventStoreDB (SQLite commits a claim with the command otherwise).
  const pipeline = new CommandPipeline(store, clock, observer, undefined, killAfterClaim ? { separateClaimAppends: true } : {});
  const programs = new ProgramInForce(pipeline, clock);
  const handlers = {
    enroll: new EnrollPartnerHandler(pipeline, clock),
    partner: new PartnerCommandHandler(pipeline, clock),
    register: new RegisterDealHandler(pipeline, clock, programs, new StreamDealDirectory(store)),
    allocate: new AllocateMdfHandler(pipeline, programs),
    request: new RequestMdfHandler(pipeline, store, clock),
    program: new DefineProgramHandler(pipeline, store),
  };
  const messages = {
    enroll: (ctx, data) => new EnrollPartnerCommand(ctx, data),
    partner: (ctx, data) => new PartnerCommandMessage(ctx, data),
    register: (ctx, data) => new RegisterDealCommand(ctx, data),
    allocate: (ctx, data) => new AllocateMdfCommand(ctx, data),
    request: (ctx, data) => new RequestMdfCommand(ctx, data),
    program: (ctx, data) => new DefineProgramCommand(ctx, data),
  };
  return {
    store,
    /** `kind` names a handler; `key` an Idempotency-Key (the same key and body are the same command). */
    run(kind, data, key, actor = { id: 'ops', role: 'channel-ops' }) {
      const ctx = commandContext(actor, { method: 'POST', path: `/${kind}`, body: data, ...(key ? { idempotencyKey: key } : {}) });
      return handlers[kind].execute(messages[kind](ctx, data));
    },
  };
}

// As a child process: `node ledger-commands.mjs <file> <now> <killAfterClaim> <kind> <json data> <key>`.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [file, now, kill, kind, data, key] = process.argv.slice(2);
  const ledger = ledgerOn(file, now, kill || undefined);
  ledger
    .run(kind, JSON.parse(data), key || undefined)
    .then(async (outcome) => {
      process.stdout.write(`${JSON.stringify({ ok: true, events: outcome.events.map((e) => e.type) })}\n`);
      await ledger.store.close();
    })
    .catch((error) => {
      process.stdout.write(`${JSON.stringify({ ok: false, error: error.name, message: error.message })}\n`);
      process.exitCode = 2;
    });
}
