/**
 * `vigie` command line. Each subcommand lives in its own module under bin/commands/.
 */
import { Command } from 'commander';
import { registerBacktest } from './commands/backtest.ts';
import { registerExport } from './commands/export.ts';
import { registerImport } from './commands/import.ts';
import { registerRecord } from './commands/record.ts';
import { registerReplay } from './commands/replay.ts';
import { registerSimulate } from './commands/simulate.ts';
import { registerStart } from './commands/start.ts';

const program = new Command();
program.name('vigie').description('Telemetry platform for connected departmental roads and public buildings').showHelpAfterError();
registerStart(program);
registerSimulate(program);
registerRecord(program);
registerReplay(program);
registerImport(program);
registerBacktest(program);
registerExport(program);
await program.parseAsync(process.argv);
