/**
 * `vigie migrate`: applies the schema migrations (and the TimescaleDB set-up) to DATABASE_URL
 * and exits, for a deployment step that runs before the new version's processes (the
 * Kubernetes Job of infra/k8s). `vigie start` runs the same migrations under the same advisory
 * lock, so running both is harmless.
 */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { migrate } from '../../services/store/migrate.ts';
import { createPool } from '../../services/store/pool.ts';
import { setupStorage } from '../../services/timeseries/storage.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Apply the database migrations to DATABASE_URL and exit')
    .action(async () => {
      let config;
      try {
        config = loadConfig();
        if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required by vigie migrate');
      } catch (err) {
        process.stderr.write(`vigie: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const logger = createLogger(config.logLevel);
      const pool = createPool(config.databaseUrl, 2);
      try {
        let timescale = false;
        await migrate(pool, { logger, after: async (client) => void (timescale = await setupStorage(client, config, logger)) });
        logger.info({ timescale }, 'migrations applied');
      } catch (err) {
        logger.fatal({ err }, (err as Error).message);
        process.exitCode = 1;
      } finally {
        await pool.end();
      }
    });
}
