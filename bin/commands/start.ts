/** `vigie start`: the platform, until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { startPlatform } from '../../services/platform.ts';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('Run the platform: ingest, store and API. Configuration comes from the environment (see README).')
    .option('--role <role>', 'what this process runs: all, ingest, api or worker (docs/operations.md, "Scaling out"); default VIGIE_ROLE or all')
    .action(async (opts: { role?: string }) => {
      let config;
      try {
        config = loadConfig(process.env, opts.role ? { VIGIE_ROLE: opts.role } : {});
      } catch (err) {
        process.stderr.write(`vigie: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const logger = createLogger(config.logLevel);
      let platform;
      try {
        platform = await startPlatform(config, logger);
      } catch (err) {
        const e = err as { code?: string; message: string };
        logger.fatal({ err, code: e.code }, e.message);
        process.stderr.write(`vigie: ${e.message}\n`);
        process.exit(1);
      }
      logger.info({ api: platform.httpUrl, docs: `${platform.httpUrl}/docs`, mqtt: platform.mqttUrl, timescale: platform.timescale, role: config.cluster.role, member: platform.leases.member }, 'Vigie is running');
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting now; unacknowledged messages stay with the broker');
          process.exit(1);
        }
        stopping = true;
        logger.info({ signal }, 'shutting down: committing pending messages');
        await platform.stop();
        logger.info('stopped');
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    });
}
