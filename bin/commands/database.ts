/**
 * The database a CLI command works on, with the same settings as `vigie start`: DATABASE_URL,
 * else the embedded PostgreSQL of VIGIE_DATA_DIR: the one a running Vigie started (its port
 * is in the data directory), or started here for the command and stopped after it.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Config } from '../../services/config.ts';
import { runningEmbeddedUrl, startEmbeddedPostgres } from '../../services/embedded/postgres.ts';
import { migrate } from '../../services/store/migrate.ts';
import { createPool } from '../../services/store/pool.ts';

export interface CliDatabase {
  pool: pg.Pool;
  /** Where it is, without credentials (for messages). */
  where: string;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, logger: Logger): Promise<CliDatabase> {
  let url = config.databaseUrl;
  let where = 'DATABASE_URL';
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    url = runningEmbeddedUrl(config.dataDir) ?? undefined;
    where = `embedded PostgreSQL of ${config.dataDir} (running Vigie)`;
    if (!url) {
      const pg = await startEmbeddedPostgres(config.dataDir, config.embedded.postgresPort, logger);
      url = pg.url;
      stop = pg.stop;
      where = `embedded PostgreSQL of ${config.dataDir}`;
    }
  }
  const pool = createPool(url, 2);
  // An idle connection ended by the server (the embedded PostgreSQL stopping right after
  // `pool.end()`, which does not wait for its connections to close) is not the command's failure.
  pool.on('error', (err) => logger.debug({ err }, 'idle database connection ended'));
  try {
    // A fresh database (token created before the first start) gets its tables here.
    await migrate(pool, { logger });
  } catch (err) {
    await pool.end();
    await stop?.();
    throw err;
  }
  return {
    pool,
    where,
    async close() {
      await pool.end();
      await stop?.();
    },
  };
}
