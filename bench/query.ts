/**
 * `npm run bench:query`: dashboard query latencies on a year of département data, answered the
 * way the API answers them (rollups) and computed from raw rows, plus storage per million
 * observations. Prints JSON on stdout; progress on stderr.
 *
 *   npm run bench:query -- --lanes 100 --road-stations 10 --buildings 5 --days 365 [--keep]
 *   npm run bench:query -- --observations 100000000   (a département-scale fleet over two years,
 *                                                      sized to about that many observations)
 *
 * BENCH_DATABASE_ADMIN_URL picks the server; with TimescaleDB preloaded there, the run is in
 * TimescaleDB mode (VIGIE_TIMESCALE=auto), otherwise plain PostgreSQL.
 * Uses a throw-away database on BENCH_DATABASE_ADMIN_URL (default the machine's PostgreSQL).
 * Latencies are of the query functions behind the API routes (HTTP adds well under 1 ms).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../services/config.ts';
import { migrate } from '../services/store/migrate.ts';
import { createPool } from '../services/store/pool.ts';
import { queryObservations } from '../services/store/observations.ts';
import { parseBucket } from '../services/timeseries/buckets.ts';
import { consumption } from '../services/timeseries/buildings.ts';
import { addMonths, ensureMonth, monthStart } from '../services/timeseries/partitions.ts';
import { rebuildRollups } from '../services/timeseries/rollups.ts';
import { sealMonths } from '../services/timeseries/sealing.ts';
import { querySeries, type SeriesQuery } from '../services/timeseries/series.ts';
import { setupStorage } from '../services/timeseries/storage.ts';
import { tmja } from '../services/timeseries/traffic.ts';
import { countRows, devicesFor, loadDataset, type DatasetOptions } from './query/dataset.ts';
import { time } from './query/measure.ts';

const program = new Command()
  .option('--lanes <n>', 'traffic lanes (two per station)', '100')
  .option('--road-stations <n>', 'road-weather stations', '10')
  .option('--buildings <n>', 'buildings (one energy meter each)', '5')
  .option('--zones <n>', 'zones per building', '3')
  .option('--days <n>', 'days of data from 1 January 2025', '365')
  .option('--observations <n>', 'size the fleet for about this many observations over two years (overrides the fleet options)')
  .option('--runs <n>', 'timed runs per query', '20')
  .option('--keep', 'keep the database afterwards')
  .parse();
const opts = program.opts<{ lanes: string; roadStations: string; buildings: string; zones: string; days: string; observations?: string; runs: string; keep?: boolean }>();
if (opts.observations) {
  // Per unit k over 730 days: 2k lanes, k/5 road-weather stations, k/4 buildings of 3 zones.
  const unit = countRows({ lanes: 20, roadStations: 2, buildings: 2.5, zonesPerBuilding: 3, days: 730, start: new Date(0), seed: 0 }) / 10;
  const k = Math.max(1, Number(opts.observations) / unit);
  Object.assign(opts, { lanes: String(Math.max(2, Math.round(2 * k))), roadStations: String(Math.max(1, Math.round(k / 5))), buildings: String(Math.max(1, Math.round(k / 4))), zones: '3', days: '730' });
}

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: 'warn' }, pino.destination(2));
const err = (s: string) => process.stderr.write(`${s}\n`);

const dataset: DatasetOptions = {
  lanes: Number(opts.lanes),
  roadStations: Number(opts.roadStations),
  buildings: Number(opts.buildings),
  zonesPerBuilding: Number(opts.zones),
  days: Number(opts.days),
  start: new Date('2025-01-01T00:00:00Z'),
  seed: 42,
};

const dbName = `vigie_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`create database ${dbName}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${dbName}`;
const pool = createPool(url.toString(), 4);
// Another process terminating idle connections (a shared server) must not end the run.
pool.on('error', (e) => err(`idle connection lost: ${e.message}`));

try {
  const config = loadConfig({ DATABASE_URL: url.toString() });
  let timescale = false;
  await migrate(pool, { logger, after: async (c) => void (timescale = await setupStorage(c, config, logger)) });
  const expected = countRows(dataset);
  err(`storage: ${timescale ? 'TimescaleDB' : 'plain PostgreSQL (monthly partitions, Vigie rollups)'}; generating ${expected.toLocaleString('en')} observations`);

  // Month partitions for the whole range first, so COPY never goes through the default one.
  if (!timescale) {
    const c = await pool.connect();
    try {
      for (let m = monthStart(dataset.start); m.getTime() < dataset.start.getTime() + dataset.days * 86400_000; m = addMonths(m, 1)) await ensureMonth(c, m);
    } finally {
      c.release();
    }
    // Bulk load: COPY marks no hour stale; one set-based rollup build afterwards.
  }
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'COPY [{bar}] {percentage}% | {value}/{total} devices | {eta_formatted} left', noTTYOutput: true, notTTYSchedule: 10_000 }, cliProgress.Presets.shades_classic);
  const t0 = Date.now();
  bar.start(devicesFor(dataset).length, 0);
  await loadDataset(pool, dataset, (done) => bar.update(done));
  bar.stop();
  const loadSeconds = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  let sealSeconds: number | null = null;
  if (!timescale) {
    await rebuildRollups(pool);
    // Sealed as the maintenance would leave two-year-old data (VIGIE_COMPRESS_AFTER_DAYS=30):
    // the months that ended more than 30 days before the dataset's end.
    const t2 = Date.now();
    await sealMonths(pool, new Date(dataset.start.getTime() + dataset.days * 86400_000), 30);
    sealSeconds = (Date.now() - t2) / 1000;
  } else {
    await pool.query(`call refresh_continuous_aggregate('cagg_series_hourly', null, null)`);
    await pool.query(`call refresh_continuous_aggregate('cagg_series_daily', null, null)`);
    // Compressed as the policy would leave two-year-old data (all but the last 30 days).
    await pool.query(`select compress_chunk(c, if_not_compressed => true) from show_chunks('observation_values', older_than => $1::timestamptz) c`, [
      new Date(dataset.start.getTime() + (dataset.days - 30) * 86400_000).toISOString(),
    ]);
  }
  await pool.query('vacuum analyze');
  const rollupSeconds = (Date.now() - t1) / 1000;
  const { rows: countRow } = await pool.query<{ n: number }>('select count(*)::bigint as n from observation_rows');
  const observations = Number(countRow[0]!.n);
  err(`loaded ${observations.toLocaleString('en')} rows in ${loadSeconds.toFixed(0)} s (${Math.round(observations / loadSeconds).toLocaleString('en')} rows/s); rollups in ${rollupSeconds.toFixed(0)} s${sealSeconds === null ? '' : ` (sealing ${sealSeconds.toFixed(0)} s)`}`);

  const size = async (sql: string) => Number((await pool.query<{ b: string }>(sql)).rows[0]!.b);
  const rawBytes = timescale
    ? await size(`select hypertable_size('observation_values')::bigint as b`)
    : await size(`select sum(pg_total_relation_size(inhrelid))::bigint as b from pg_inherits where inhparent in ('observation_values'::regclass, 'observation_values_sealed'::regclass)`);
  const rollupBytes = timescale
    ? await size(`select (hypertable_size(format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name)::regclass))::bigint as b from timescaledb_information.continuous_aggregates where view_name = 'cagg_series_hourly'`)
    : await size(`select (pg_total_relation_size('rollup_hourly') + pg_total_relation_size('rollup_daily'))::bigint as b`);

  const runs = Number(opts.runs);
  const env = { pool, timescale, maxPoints: 10_000_000 };
  const station = 'tc-0000';
  const allStations = devicesFor(dataset).filter((d) => d.kind === 'traffic-counter').map((d) => d.id);
  const series = (q: Partial<SeriesQuery>): SeriesQuery => ({
    devices: [station],
    metrics: ['vehicle_count'],
    from: new Date('2025-06-01T00:00:00+02:00'),
    to: new Date('2025-07-01T00:00:00+02:00'),
    bucket: parseBucket('1h'),
    aggregates: ['sum', 'avg'],
    tz: 'Europe/Paris',
    fill: 'null',
    source: 'auto',
    ...q,
  });
  // A route: every fifth station (the stations of one departmental road).
  const route = allStations.filter((_, i) => i % 5 === 0);
  const lastDay = new Date(dataset.start.getTime() + (dataset.days - 1) * 86400_000);
  const sensor = devicesFor(dataset).find((d) => d.kind === 'road-weather-station')!.id;
  const day = { from: new Date('2025-06-12T00:00:00+02:00'), to: new Date('2025-06-13T00:00:00+02:00') };
  const queries: Record<string, { api: () => Promise<unknown>; raw: () => Promise<unknown> }> = {
    'one station, hourly series over 30 days': {
      api: () => querySeries(env, series({})),
      raw: () => querySeries(env, series({ source: 'raw' })),
    },
    'one day of all stations, hourly': {
      api: () => querySeries(env, series({ devices: allStations, ...day })),
      raw: () => querySeries(env, series({ devices: allStations, ...day, source: 'raw' })),
    },
    'TMJA of all stations for a year': {
      api: () => tmja(pool, timescale, { year: 2025 }),
      raw: () =>
        pool.query(
          `select device_id, sum(value) / 365 from observations
            where metric = 'vehicle_count' and time >= '2025-01-01T00:00:00+01:00' and time < '2026-01-01T00:00:00+01:00'
            group by device_id`,
        ),
    },
    'all stations of a route, daily over a year': {
      api: () => querySeries(env, series({ devices: route, from: new Date('2025-01-01T00:00:00+01:00'), to: new Date('2026-01-01T00:00:00+01:00'), bucket: parseBucket('1d') })),
      raw: () => querySeries(env, series({ devices: route, from: new Date('2025-01-01T00:00:00+01:00'), to: new Date('2026-01-01T00:00:00+01:00'), bucket: parseBucket('1d'), source: 'raw' })),
    },
    'latest values of every device': {
      api: () => pool.query(`select device_id, metric, channel, time, received_at, value, quality from latest_observations`),
      raw: () => pool.query(`select device_id, metric, channel, time, received_at, value, quality from latest_observations`),
    },
    'the 24 h raw series of one sensor': {
      api: () => queryObservations(pool, { devices: [sensor], metrics: ['surface_temperature'], from: lastDay, to: new Date(lastDay.getTime() + 86400_000), limit: 10000, order: 'asc' }),
      raw: () => queryObservations(pool, { devices: [sensor], metrics: ['surface_temperature'], from: lastDay, to: new Date(lastDay.getTime() + 86400_000), limit: 10000, order: 'asc' }),
    },
    "a building's weekly energy over the year": {
      // Consumption needs consecutive raw readings (resets): the API computes it from raw rows.
      api: () => consumption(pool, { building: 'clg-000', metric: 'energy', bucket: 'week', from: new Date('2025-01-01T00:00:00+01:00'), to: new Date('2026-01-01T00:00:00+01:00'), tz: 'Europe/Paris' }),
      raw: () => consumption(pool, { building: 'clg-000', metric: 'energy', bucket: 'week', from: new Date('2025-01-01T00:00:00+01:00'), to: new Date('2026-01-01T00:00:00+01:00'), tz: 'Europe/Paris' }),
    },
  };
  const results: Record<string, unknown> = {};
  for (const [name, q] of Object.entries(queries)) {
    err(`timing: ${name}`);
    results[name] = { api: await time(q.api, runs), raw: await time(q.raw, runs) };
  }
  const perMillion = (b: number) => Math.round((b / observations) * 1e6 / 1024 / 1024 * 10) / 10;
  process.stdout.write(
    `${JSON.stringify(
      {
        machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), postgres: (await pool.query('show server_version')).rows[0].server_version },
        storage: timescale ? 'timescaledb' : 'plain-postgresql',
        dataset: { ...dataset, observations, devices: devicesFor(dataset).length },
        load: { copySeconds: Math.round(loadSeconds), rowsPerSecond: Math.round(observations / loadSeconds), rollupSeconds: Math.round(rollupSeconds), ...(sealSeconds === null ? {} : { sealSeconds: Math.round(sealSeconds) }) },
        size: { rawMiB: Math.round(rawBytes / 2 ** 20), rollupMiB: Math.round(rollupBytes / 2 ** 20), rawMiBPerMillionObservations: perMillion(rawBytes), rollupMiBPerMillionObservations: perMillion(rollupBytes) },
        queries: results,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await pool.end();
  if (!opts.keep) await admin.query(`drop database if exists ${dbName} with (force)`);
  else err(`kept database ${dbName}`);
  await admin.end();
}
