/**
 * The database for CLI commands: DATABASE_URL, or the embedded PostgreSQL of the data
 * directory (the running Vigie's, or started for the command and stopped after). Migrations
 * run first, so a command works on a fresh data directory too.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Config } from '../../services/config.ts';
import { startEmbeddedPostgres } from '../../services/embedded/postgres.ts';
import { runningEmbeddedPostgresUrl } from '../../services/embedded/postgres-running.ts';
import { migrate } from '../../services/store/migrate.ts';
import { createPool } from '../../services/store/pool.ts';

export async function withDatabase<T>(config: Config, logger: Logger, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  let url = config.databaseUrl ?? runningEmbeddedPostgresUrl(config.dataDir);
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    const embedded = await startEmbeddedPostgres(config.dataDir, config.embedded.postgresPort, logger);
    url = embedded.url;
    stop = () => embedded.stop();
  }
  const pool = createPool(url, 2);
  try {
    await migrate(pool, { logger });
    return await work(pool);
  } finally {
    await pool.end();
    if (stop) await stop();
  }
}
