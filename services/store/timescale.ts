/**
 * TimescaleDB when it is there, plain PostgreSQL when it is not. `auto` uses the extension if
 * the server offers it installed and preloaded, and falls back with a warning when it is
 * installed but not preloaded; `require` fails start-up without it; `off` never touches it.
 *
 * With the extension: the observation_values hypertable, columnstore compression of older
 * chunks segmented by series id, a retention policy, and hourly/daily continuous aggregates
 * per series id (`cagg_series_hourly`, `cagg_series_daily`) with real-time aggregation and a
 * refresh window that covers late data, read through the views `cagg_hourly` and `cagg_daily`
 * (the series' names joined in: the same columns as the plain-PostgreSQL `series_*` views).
 * Every step is idempotent
 * and re-applies the configured values (policies are removed and re-added), so changing a
 * setting and restarting takes effect.
 */
import type { Logger } from 'pino';
import pg from 'pg';
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

/** What the server offers, found without loading the extension's library. */
export interface TimescaleProbe {
  /** The extension's files are installed (pg_available_extensions). */
  available: boolean;
  /** The loader is in shared_preload_libraries (it defines `timescaledb.*` settings only then). */
  preloaded: boolean;
  /** The extension is created in this database. */
  installed: boolean;
}

/**
 * Safe to run anywhere: reads catalogues only. Loading timescaledb without its loader is a
 * FATAL that ends the connection ("extension must be preloaded": TimescaleDB's install
 * guides require `shared_preload_libraries = 'timescaledb'` and a restart), so preloading is
 * checked first. The loader registers its settings (`timescaledb.disable_load`) in _PG_init,
 * and pg_settings lists registered settings only (an unregistered `timescaledb.*` name set by
 * hand is a placeholder and is not listed), readable without privileges, unlike
 * shared_preload_libraries itself (superuser or pg_read_all_settings).
 */
export async function probeTimescale(client: pg.ClientBase): Promise<TimescaleProbe> {
  const { rows } = await client.query<TimescaleProbe>(
    `select exists (select 1 from pg_available_extensions where name = 'timescaledb') as available,
            exists (select 1 from pg_settings where name = 'timescaledb.disable_load') as preloaded,
            exists (select 1 from pg_extension where extname = 'timescaledb') as installed`,
  );
  return rows[0]!;
}

export const NOT_PRELOADED_HINT = "add 'timescaledb' to shared_preload_libraries in postgresql.conf and restart PostgreSQL";

/**
 * `create extension` on a connection of its own, with an error listener: should the server
 * still end the session (a FATAL from the library load), the error is returned, not raised
 * on a client nobody listens to (which would end the process).
 */
export async function createExtensionIsolated(connectionString: string): Promise<Error | null> {
  const c = new pg.Client({ connectionString, application_name: 'vigie-timescale-setup' });
  let lost: Error | null = null;
  c.on('error', (err) => (lost = err));
  try {
    await c.connect();
    await c.query('create extension if not exists timescaledb');
    return lost;
  } catch (err) {
    return err as Error;
  } finally {
    await c.end().catch(() => {});
  }
}

export interface TimescaleSetupOptions {
  policies?: TimescalePolicies;
  /** Where to open the dedicated connection that creates the extension. */
  connectionString?: string;
}

export async function setupTimescale(client: pg.ClientBase, mode: TimescaleMode, logger: Logger, options: TimescaleSetupOptions = {}): Promise<boolean> {
  if (mode === 'off') return false;
  const policies = options.policies ?? DEFAULT_POLICIES;
  const probe = await probeTimescale(client);
  if (!probe.available) {
    if (mode === 'require') throw new VigieError('VIGIE_ERR_TIMESCALE_MISSING', 'VIGIE_TIMESCALE=require but the timescaledb extension is not installed on this server');
    logger.info('timescaledb extension not available: running on plain PostgreSQL');
    return false;
  }
  if (!probe.preloaded) {
    if (probe.installed) {
      // The hypertable and its aggregates cannot be read without the library: no fallback.
      throw new VigieError('VIGIE_ERR_TIMESCALE_NOT_PRELOADED', `this database uses timescaledb but the server does not preload it: ${NOT_PRELOADED_HINT}`);
    }
    if (mode === 'require') {
      throw new VigieError('VIGIE_ERR_TIMESCALE_NOT_PRELOADED', `VIGIE_TIMESCALE=require but timescaledb is installed without being preloaded: ${NOT_PRELOADED_HINT}`);
    }
    logger.warn(`timescaledb is installed on this server but not preloaded (shared_preload_libraries): running on plain PostgreSQL; to use it, ${NOT_PRELOADED_HINT}`);
    return false;
  }
  if (!probe.installed) {
    const failure = options.connectionString ? await createExtensionIsolated(options.connectionString) : await client.query('create extension if not exists timescaledb').then(() => null, (err: Error) => err);
    if (failure) {
      if (mode === 'require') throw new VigieError('VIGIE_ERR_TIMESCALE_MISSING', `cannot enable timescaledb: ${failure.message}`, { cause: failure });
      logger.warn({ err: failure }, 'timescaledb present but cannot be enabled: running on plain PostgreSQL');
      return false;
    }
  }
  const { rows } = await client.query(`select relkind from pg_class where oid = 'observation_values'::regclass`);
  if (rows[0]?.relkind === 'p') {
    // A database first run on plain PostgreSQL has monthly partitions; TimescaleDB cannot
    // convert a partitioned table. Stay on the plain path rather than half-migrate.
    if (mode === 'require') throw new VigieError('VIGIE_ERR_TIMESCALE_MISSING', 'observation_values is already a partitioned (plain PostgreSQL) table; re-import into a fresh database to use TimescaleDB');
    logger.warn('observation_values is a plain-PostgreSQL partitioned table: keeping the plain path (re-import into a fresh database to use TimescaleDB)');
    return false;
  }
  await applyTimescalePolicies(client, policies, logger);
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

/** The continuous aggregate (per series id) behind each named view the queries read. */
const MATERIALIZED = { cagg_hourly: 'cagg_series_hourly', cagg_daily: 'cagg_series_daily' } as const;

/**
 * `series_id` comes last: a query that resolves its series first (series_id = any(array(select
 * id from series ...))) reaches the aggregate's (series_id, bucket) index in both the
 * materialized and the real-time part; a filter on device_id alone cannot be pushed through
 * the real-time union, and the planner then reads every series' buckets of the range.
 */
const NAMED = (cagg: string) =>
  `select s.device_id, s.metric, s.channel, c.bucket, c.n, c.sum, c.min, c.max, c.first_time, c.first_value, c.last_time, c.last_value, c.series_id
     from ${cagg} c join series s on s.id = c.series_id`;

/** Continuous aggregates and the shortest refresh-policy window each accepts (two buckets). */
const CAGGS = [
  ['cagg_hourly', 1],
  ['cagg_daily', 3],
] as const;

/** Start of the refresh-policy window of a continuous aggregate, in days before now. */
export function refreshStartDays(minDays: number, p: TimescalePolicies): number {
  return Math.max(minDays, Math.floor(p.rollupLateDays));
}

/**
 * Retention must never reach into a refresh window: drop_chunks records the dropped range as
 * modified, and a refresh over it recomputes those buckets from no rows, deleting the
 * aggregates (TimescaleDB docs, "Data retention with continuous aggregates": "make sure that
 * the aggregate's refresh window doesn't overlap with any deleted data"). Rollups outliving
 * raw retention is the point of keeping them.
 */
export function checkRetentionAgainstRefresh(p: TimescalePolicies): void {
  if (p.retentionDays <= 0) return;
  const reach = Math.max(...CAGGS.map(([, min]) => refreshStartDays(min, p)));
  if (reach >= p.retentionDays) {
    throw new VigieError(
      'VIGIE_ERR_CONFIG',
      `VIGIE_RETENTION_DAYS (${p.retentionDays}) must be larger than the continuous aggregates' refresh window (VIGIE_ROLLUP_LATE_DAYS, here ${reach} days): ` +
        'with TimescaleDB a refresh over chunks dropped by retention deletes their rollups',
    );
  }
}

async function applyTimescalePolicies(client: pg.ClientBase, p: TimescalePolicies, logger: Logger): Promise<void> {
  checkRetentionAgainstRefresh(p);
  await client.query(`select create_hypertable('observation_values', by_range('time', ${days(p.chunkIntervalDays)}), if_not_exists => true, migrate_data => true)`);
  await client.query(`select set_chunk_time_interval('observation_values', ${days(p.chunkIntervalDays)})`);
  // Continuous aggregates replace the Vigie-maintained rollups: nothing marks hours stale.
  await client.query(`truncate rollup_dirty`);
  await client.query(`update ingest_batches set stale_series = null, stale_hours = null, stale_from = null where stale_series is not null`);

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

  // Real-time aggregation (materialized_only = false): buckets after the watermark (the end
  // of the materialized range) are computed from raw rows at query time, so new data is in
  // the answers at once. Rows written below the watermark (late data) show once a refresh
  // covers them: the policy within its window, the timeseries module beyond it (TimescaleDB
  // docs, "Real-time aggregates").
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
  // The refresh window reaches rollupLateDays back, so late data within it is re-aggregated by
  // the policy; older late data is refreshed explicitly by the timeseries module.
  await client.query(`create or replace view cagg_hourly as ${NAMED(MATERIALIZED.cagg_hourly)}`);
  await client.query(`create or replace view cagg_daily as ${NAMED(MATERIALIZED.cagg_daily)}`);
  for (const [view, minDays] of CAGGS) {
    await client.query(`select remove_continuous_aggregate_policy('${MATERIALIZED[view]}', if_exists => true)`);
    await client.query(
      `select add_continuous_aggregate_policy('${MATERIALIZED[view]}', start_offset => ${days(refreshStartDays(minDays, p))}, end_offset => interval '1 hour', schedule_interval => interval '5 minutes')`,
    );
  }
  await refreshHistory(client, p, logger);
}

/**
 * Materializes what is older than the policy window and still marked modified: rows of a
 * table converted with migrate_data, or late rows whose explicit refresh a stop interrupted.
 * Without it they stay below the watermark, where real-time aggregation does not look, and
 * no policy run reaches them. Only modified ranges are recomputed, so a start with nothing
 * pending costs little; the range dropped by retention is left out (see above).
 */
async function refreshHistory(client: pg.ClientBase, p: TimescalePolicies, logger: Logger): Promise<void> {
  const started = Date.now();
  for (const [view, minDays] of CAGGS) {
    const end = new Date(Date.now() - refreshStartDays(minDays, p) * 86400_000);
    const start = p.retentionDays > 0 ? new Date(Date.now() - p.retentionDays * 86400_000) : null;
    // A window narrower than two buckets may hold no whole bucket, which the refresh refuses
    // ("refresh window too small"); there is then no history left to materialize anyway.
    if (start && end.getTime() - start.getTime() < (minDays === 1 ? 2 * 3600_000 : 2 * 86400_000)) continue;
    try {
      await refreshAggregate(client, view, start, end);
    } catch (err) {
      if (!isConcurrentRefresh(err)) throw err;
      logger.warn({ err, view }, 'continuous aggregate history refresh postponed to the next start: a refresh policy kept the range busy');
    }
  }
  logger.debug({ ms: Date.now() - started }, 'continuous aggregates: history beyond the refresh window materialized');
}

/** SQLSTATE 55P03: TimescaleDB refuses a refresh overlapping one in progress (a policy run, say). */
export function isConcurrentRefresh(err: unknown): boolean {
  return (err as { code?: string })?.code === '55P03';
}

/**
 * refresh_continuous_aggregate over [start, end) (null: open-ended), waiting out an
 * overlapping refresh in progress (a policy run) for a few seconds before giving up with its
 * error. Only buckets wholly inside the window are refreshed (TimescaleDB docs,
 * refresh_continuous_aggregate). Cannot run inside a transaction block.
 */
export async function refreshAggregate(db: pg.ClientBase | pg.Pool, view: 'cagg_hourly' | 'cagg_daily', start: Date | string | null, end: Date | string | null, attempts = 8): Promise<void> {
  const iso = (d: Date | string | null) => (d === null ? null : typeof d === 'string' ? d : d.toISOString());
  for (let attempt = 1; ; attempt++) {
    try {
      await db.query(`call refresh_continuous_aggregate('${MATERIALIZED[view]}', $1::timestamptz, $2::timestamptz)`, [iso(start), iso(end)]);
      return;
    } catch (err) {
      if (!isConcurrentRefresh(err) || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}
