#!/usr/bin/env node
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ALL_PROJECTIONS } from '#projections/index.js';
import { openReadModels, ProjectionRunner } from '#projections/runner/runner.js';
import { loadConfig } from '#libs/ledger/config.js';
import { openEventStore, readModelsFile } from '#libs/event-store/open.js';
import { CliError, EXIT_USAGE, registerAuditCommands } from './audit.js';
import { registerBackupCommand } from './backup.js';
import { registerExportCommand } from './export.js';
import { registerImportCommand } from './import.js';
import { registerSimulateCommand } from './simulate.js';
import { registerStatementCommands } from './statement.js';
import { progress } from './progress.js';

const program = new Command('ledger')
  .description('channel-ledger: the event-sourced channel partner ledger')
  .showHelpAfterError('(ledger help <command> shows its usage)')
  // Usage errors exit 2 (docs/audit.md, "Exit codes"); commander's own exit is 1.
  .exitOverride();

program
  .command('serve')
  .description('start the HTTP service (the same as `npm start`)')
  .action(async () => {
    // The service is its own program (apps/api): run it as a child with this terminal, passing signals on.
    const child = spawn(process.execPath, [fileURLToPath(new URL('../../api/src/main.js', import.meta.url))], { stdio: 'inherit' });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  });

program
  .command('rebuild')
  .description('rebuild read models from zero by replaying the log (stop the service first)')
  .option('-p, --projection <name...>', `only these read models (${ALL_PROJECTIONS.map((p) => p.name).join(', ')})`)
  .action(async (opts: { projection?: string[] }) => {
    const unknown = (opts.projection ?? []).filter((n) => !ALL_PROJECTIONS.some((p) => p.name === n));
    if (unknown.length) program.error(`unknown projection(s): ${unknown.join(', ')}`);
    const config = loadConfig();
    const store = await openEventStore(config);
    const db = openReadModels(readModelsFile(config.dataDir));
    try {
      const runner = new ProjectionRunner(store, db, ALL_PROJECTIONS);
      runner.reset(opts.projection);
      const bar = progress('rebuild');
      await runner.catchUp((at, head) => bar.update(at, head));
      bar.finish(`read models at position ${runner.position()}`);
    } finally {
      db.close();
      await store.close();
    }
  });

registerAuditCommands(program);
registerBackupCommand(program);
registerExportCommand(program);
registerImportCommand(program);
registerSimulateCommand(program);
registerStatementCommands(program);

/** Every failure is one line on stderr: the command's message, never a stack. */
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its message already. Help and version exit 0; a command's own refusal
    // (`program.error`, code 'commander.error') keeps its exit code (1); a usage error exits 2.
    process.exitCode = error.exitCode === 0 || error.code === 'commander.error' ? error.exitCode : EXIT_USAGE;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    const line = message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ') || 'failed';
    process.stderr.write(`${error instanceof CliError || line.startsWith('ledger') ? '' : 'ledger: '}${line}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : EXIT_USAGE;
  }
}
