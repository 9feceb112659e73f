/**
 * TimescaleDB when it is there, plain PostgreSQL when it is not. `auto` uses the extension if
 * the server offers it; `require` fails start-up without it; `off` never touches it.
 *
 * With the extension: the observation_values hypertable, columnstore compression of older
 * chunks segmented by series id, a retention policy, and hourly/daily continuous aggregates
 * per series id (`cagg_series_hourly`, `cagg_series_daily`) with real-time aggregation and a
 * refresh window that covers late data, read through the views `cagg_hourly` and `cagg_daily`
 * (the series' names joined in: the same columns as the plain-PostgreSQL `series_*` views). Every step is idempotent
 * and re-applies the configured values (policies are removed and re-added), so changing a
 * setting and restarting takes effect.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import { VigieError } from '../errors.ts';

export type TimescaleMode = 'auto' | 'off' | 'require';

export interface TimescalePolicies {
  chunkIntervalDays: number;
  /** 0: no compression policy. */
  compressAfterDays: number;
  /** 0: keep everything. */
  retentionDays: number;
  /** Refresh window start: late data up to this old is re-aggregated by the policy. */
  rollupLateDays: number;
}

export const DEFAULT_POLICIES: TimescalePolicies = { chunkIntervalDays: 7, compressAfterDays: 30, retentionDays: 0, rollupLateDays: 35 };

export async function timescaleAvailable(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query(`select 1 from pg_available_extensions where name = 'timescaledb'`);
  return rows.length > 0;
}

export async function setupTimescale(client: pg.ClientBase, mode: TimescaleMode, logger: Logger, policies: TimescalePolicies = DEFAULT_POLICIES): Promise<boolean> {
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
  const { rows } = await client.query(`select relkind from pg_class where oid = 'observation_values'::regclass`);
  if (rows[0]?.relkind === 'p') {
    // A database first run on plain PostgreSQL has monthly partitions; TimescaleDB cannot
    // convert a partitioned table. Stay on the plain path rather than half-migrate.
    if (mode === 'require') throw new VigieError('VIGIE_ERR_TIMESCALE_MISSING', 'observation_values is already a partitioned (plain PostgreSQL) table; re-import into a fresh database to use TimescaleDB');
    logger.warn('observation_values is a plain-PostgreSQL partitioned table: keeping the plain path (re-import into a fresh database to use TimescaleDB)');
    return false;
  }
  await applyTimescalePolicies(client, policies);
  logger.info({ policies }, 'observation_values is a TimescaleDB hypertable with compression, retention and continuous aggregates');
  return true;
}

const days = (n: number) => `interval '${Math.floor(n)} days'`;

/** The rollup columns per series (the plain-PostgreSQL rollup tables, 050_narrow_observations.sql). */
function caggSelect(bucketExpr: string): string {
  return `select series_id, ${bucketExpr} as bucket,
                 count(*) as n, sum(value) as sum, min(value) as min, max(value) as max,
                 min(time) as first_time, first(value, time) as first_value,
                 max(time) as last_time, last(value, time) as last_value
            from observation_values
           group by series_id, ${bucketExpr}`;
}

const NAMED = (cagg: string) =>
  `select s.device_id, s.metric, s.channel, c.bucket, c.n, c.sum, c.min, c.max, c.first_time, c.first_value, c.last_time, c.last_value
     from ${cagg} c join series s on s.id = c.series_id`;

async function applyTimescalePolicies(client: pg.ClientBase, p: TimescalePolicies): Promise<void> {
  await client.query(`select create_hypertable('observation_values', by_range('time', ${days(p.chunkIntervalDays)}), if_not_exists => true, migrate_data => true)`);
  await client.query(`select set_chunk_time_interval('observation_values', ${days(p.chunkIntervalDays)})`);
  // Continuous aggregates replace the Vigie-maintained rollups: nothing marks hours stale.
  await client.query(`truncate rollup_dirty`);
  await client.query(`update ingest_batches set stale_series = null, stale_hours = null where stale_series is not null`);

  // Compression (columnstore): one segment per series, so a series' history reads one
  // compressed batch, ordered by time for range scans inside it. Regular sensor data then
  // compresses to a few bytes per observation (delta-of-delta times, Gorilla values).
  // Set once: TimescaleDB refuses to change compression settings once chunks are compressed.
  const { rows: ht } = await client.query(`select compression_enabled from timescaledb_information.hypertables where hypertable_name = 'observation_values'`);
  if (!ht[0]?.compression_enabled) {
    await client.query(`alter table observation_values set (timescaledb.compress, timescaledb.compress_segmentby = 'series_id', timescaledb.compress_orderby = 'time desc')`);
  }
  await client.query(`select remove_compression_policy('observation_values', if_exists => true)`);
  if (p.compressAfterDays > 0) await client.query(`select add_compression_policy('observation_values', compress_after => ${days(p.compressAfterDays)})`);

  await client.query(`select remove_retention_policy('observation_values', if_exists => true)`);
  if (p.retentionDays > 0) await client.query(`select add_retention_policy('observation_values', drop_after => ${days(p.retentionDays)})`);

  // Real-time aggregation (materialized_only = false): buckets newer than the watermark are
  // computed from raw rows at query time, so the API never lags the ingest.
  await client.query(
    `create materialized view if not exists cagg_series_hourly with (timescaledb.continuous, timescaledb.materialized_only = false) as
     ${caggSelect(`time_bucket(interval '1 hour', time)`)} with no data`,
  );
  // Daily buckets are Europe/Paris calendar days (23 or 25 hours on DST changes), like
  // rollup_daily; TMJA counts complete days from them (services/timeseries/tmja.ts).
  await client.query(
    `create materialized view if not exists cagg_series_daily with (timescaledb.continuous, timescaledb.materialized_only = false) as
     ${caggSelect(`time_bucket(interval '1 day', time, 'Europe/Paris')`)} with no data`,
  );
  await client.query(`create or replace view cagg_hourly as ${NAMED('cagg_series_hourly')}`);
  await client.query(`create or replace view cagg_daily as ${NAMED('cagg_series_daily')}`);
  // The refresh window reaches rollupLateDays back, so late data within it is re-aggregated by
  // the policy; older late data is refreshed explicitly by the timeseries module.
  for (const [view, minDays] of [['cagg_series_hourly', 1], ['cagg_series_daily', 3]] as const) {
    await client.query(`select remove_continuous_aggregate_policy('${view}', if_exists => true)`);
    await client.query(
      `select add_continuous_aggregate_policy('${view}', start_offset => ${days(Math.max(minDays, p.rollupLateDays))}, end_offset => interval '1 hour', schedule_interval => interval '5 minutes')`,
    );
  }
}
