/**
 * Storage set-up after the SQL migrations, inside the migration lock: TimescaleDB features when
 * the extension is there, otherwise monthly partitions and Vigie-maintained rollups (the ingest
 * marks stale hours once per batch). Returns true in TimescaleDB mode.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Config } from '../config.ts';
import { setupTimescale } from '../store/timescale.ts';
import { convertToPartitioned, maintainPartitions } from './partitions.ts';

/** `databaseUrl`: the database `client` is connected to (the extension is created on a connection of its own). */
export async function setupStorage(client: pg.ClientBase, config: Config, logger: Logger, databaseUrl = config.databaseUrl): Promise<boolean> {
  const ts = config.timeseries;
  const timescale = await setupTimescale(client, config.timescale, logger, {
    connectionString: databaseUrl,
    policies: {
      chunkIntervalDays: ts.chunkIntervalDays,
      compressAfterDays: ts.compressAfterDays,
      retentionDays: ts.retentionDays,
      rollupLateDays: ts.rollupLateDays,
    },
  });
  if (timescale) return true;
  await convertToPartitioned(client);
  const report = await maintainPartitions(client, new Date(), ts.retentionDays);
  logger.info({ ...report }, 'plain PostgreSQL storage: monthly partitions and Vigie-maintained rollups');
  return false;
}
