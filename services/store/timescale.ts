/**
 * TimescaleDB when it is there, plain PostgreSQL when it is not. `auto` uses the extension if
 * the server offers it; `require` fails start-up without it; `off` never touches it.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import { VigieError } from '../errors.ts';

export type TimescaleMode = 'auto' | 'off' | 'require';

export async function timescaleAvailable(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query(`select 1 from pg_available_extensions where name = 'timescaledb'`);
  return rows.length > 0;
}

export async function setupTimescale(client: pg.ClientBase, mode: TimescaleMode, logger: Logger): Promise<boolean> {
  if (mode === 'off') return false;
  if (!(await timescaleAvailable(client))) {
    if (mode === 'require') throw new VigieError('VIGIE_ERR_TIMESCALE_MISSING', 'VIGIE_TIMESCALE=require but the timescaledb extension is not installed on this server');
    logger.info('timescaledb extension not available: running on plain PostgreSQL');
    return false;
  }
  try {
    await client.query('create extension if not exists timescaledb');
  } catch (err) {
    // The package may be installed but not preloaded (shared_preload_libraries).
    if (mode === 'require') throw new VigieError('VIGIE_ERR_TIMESCALE_MISSING', `cannot enable timescaledb: ${(err as Error).message}`, { cause: err });
    logger.warn({ err }, 'timescaledb present but cannot be enabled: running on plain PostgreSQL');
    return false;
  }
  // 7-day chunks: ~10k devices x 20 series x 240 readings/day stays well inside memory per chunk.
  await client.query(
    `select create_hypertable('observations', by_range('time', interval '7 days'), if_not_exists => true, migrate_data => true)`,
  );
  logger.info('observations is a TimescaleDB hypertable');
  return true;
}
