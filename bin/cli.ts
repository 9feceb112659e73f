/**
 * `vigie` command line. Each subcommand lives in its own module under bin/commands/.
 */
import { Command } from 'commander';
import { registerBacktest } from './commands/backtest.ts';
import { registerCredentials } from './commands/credentials.ts';
import { registerExport } from './commands/export.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerImport } from './commands/import.ts';
import { registerRecord } from './commands/record.ts';
import { registerReplay } from './commands/replay.ts';
import { registerMosquittoConfig } from './commands/mosquitto-config.ts';
import { registerSimulate } from './commands/simulate.ts';
import { registerStart } from './commands/start.ts';
import { registerToken } from './commands/token.ts';

const program = new Command();
program.name('vigie').description('Telemetry platform for connected departmental roads and public buildings').showHelpAfterError();
registerStart(program);
registerSimulate(program);
registerRecord(program);
registerReplay(program);
registerImport(program);
registerBacktest(program);
registerExport(program);
registerMigrate(program);
registerToken(program);
registerCredentials(program);
registerMosquittoConfig(program);
await program.parseAsync(process.argv);
