#!/usr/bin/env node
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { digestAt, verifyLog } from '#libs/event-store/integrity.js';
import { ALL_PROJECTIONS } from '#projections/index.js';
import { openReadModels, ProjectionRunner } from '#projections/runner/runner.js';
import { loadConfig } from '#libs/ledger/config.js';
import { openEventStore, readModelsFile } from '#libs/event-store/open.js';
import { registerBackupCommand } from './backup.js';
import { registerExportCommand } from './export.js';
import { registerImportCommand } from './import.js';
import { registerSimulateCommand } from './simulate.js';
import { progress } from './progress.js';

function position(value: string): bigint {
  if (!/^\d{1,20}$/.test(value)) throw new InvalidArgumentError('a position is a non-negative decimal integer');
  return BigInt(value);
}

const program = new Command('ledger').description('channel-ledger: the event-sourced channel partner ledger').showHelpAfterError();

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

program
  .command('verify')
  .description('recompute the hash chain; exit 1 and name the first bad position when it breaks')
  .option('--position <p>', 'verify up to this position', position)
  .option('--digest <hex>', 'a digest kept outside the ledger, compared at --position')
  .action(async (opts: { position?: bigint; digest?: string }) => {
    const config = loadConfig();
    const store = await openEventStore(config);
    try {
      const bar = progress('verify');
      const head = opts.position ?? (await store.headPosition());
      const r = await verifyLog(store, { position: opts.position, digest: opts.digest, onProgress: (_n, at) => bar.update(at, head) });
      bar.finish(`${r.checkedEvents} events checked`);
      process.stdout.write(`${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
      if (!r.ok || r.digestMatches === false) process.exitCode = 1;
    } finally {
      await store.close();
    }
  });

program
  .command('digest')
  .description('print the digest of the log at a position (the head by default), to keep outside the ledger')
  .option('--position <p>', 'the position', position)
  .action(async (opts: { position?: bigint }) => {
    const config = loadConfig();
    const store = await openEventStore(config);
    try {
      const d = await digestAt(store, opts.position);
      process.stdout.write(`${JSON.stringify({ position: d.position.toString(), digest: d.digest, algorithm: 'sha256' })}\n`);
    } finally {
      await store.close();
    }
  });

registerBackupCommand(program);
registerExportCommand(program);
registerImportCommand(program);
registerSimulateCommand(program);

await program.parseAsync(process.argv);
