/**
 * `npm run bench:dashboards`: every dashboard panel's SQL, expanded as Grafana expands it
 * (dashboards/grafana-sql.ts), timed on a département-sized data set (bench/query/dataset.ts)
 * at the intervals Grafana picks for a ~1000 px wide panel: 24 h at 1m and 7 d at 10m (raw
 * observations), 90 d at 2h and 365 d at 12h (hourly rollup), 365 d at 1d (daily rollup).
 * Prints JSON on stdout (one entry per panel, target and range); progress on stderr.
 *
 *   npm run bench:dashboards -- --lanes 100 --road-stations 10 --buildings 5 --days 365 [--keep]
 *
 * Uses a throw-away database on BENCH_DATABASE_ADMIN_URL (default the machine's PostgreSQL).
 * The "now" panels (ice risk, traffic state) read the latest values: on this past data set
 * every station is "unknown" (stale), which costs the same.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Command } from 'commander';
import pg from 'pg';
import pino from 'pino';
import { expandGrafanaSql, formatInterval } from '../dashboards/grafana-sql.ts';
import { resolveVariables, sqlTargets, type DashboardJson } from '../dashboards/panels.ts';
import { buildDashboards } from '../dashboards/src/index.ts';
import { loadConfig } from '../services/config.ts';
import { migrate } from '../services/store/migrate.ts';
import { createPool } from '../services/store/pool.ts';
import { addMonths, ensureMonth, monthStart } from '../services/timeseries/partitions.ts';
import { rebuildRollups } from '../services/timeseries/rollups.ts';
import { setupStorage } from '../services/timeseries/storage.ts';
import { devicesFor, loadDataset, type DatasetOptions } from './query/dataset.ts';
import { time } from './query/measure.ts';

const program = new Command()
  .option('--lanes <n>', 'traffic lanes (two per station)', '100')
  .option('--road-stations <n>', 'road-weather stations', '10')
  .option('--buildings <n>', 'buildings (one energy meter each)', '5')
  .option('--zones <n>', 'zones per building', '3')
  .option('--days <n>', 'days of data from 1 January 2025', '365')
  .option('--runs <n>', 'timed runs per query', '3')
  .option('--keep', 'keep the database afterwards')
  .parse();
const opts = program.opts<{ lanes: string; roadStations: string; buildings: string; zones: string; days: string; runs: string; keep?: boolean }>();

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: 'warn' }, pino.destination(2));
const err = (s: string) => process.stderr.write(`${s}\n`);
const err_ = (e: Error) => err(`PostgreSQL: ${e.message}`);

const dataset: DatasetOptions = {
  lanes: Number(opts.lanes),
  roadStations: Number(opts.roadStations),
  buildings: Number(opts.buildings),
  zonesPerBuilding: Number(opts.zones),
  days: Number(opts.days),
  start: new Date('2025-01-01T00:00:00Z'),
  seed: 42,
};
const end = new Date(dataset.start.getTime() + dataset.days * 86_400_000);
const DAY = 86_400_000;
const RANGES = [
  { name: '24h', ms: DAY, intervalMs: 60_000 },
  { name: '7d', ms: 7 * DAY, intervalMs: 600_000 },
  { name: '90d', ms: 90 * DAY, intervalMs: 7_200_000 },
  { name: '365d', ms: 365 * DAY, intervalMs: 43_200_000 },
  { name: '365d-daily', ms: 365 * DAY, intervalMs: DAY },
].filter((r) => r.ms <= dataset.days * DAY || r.name === '24h');

const dbName = `vigie_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`create database ${dbName}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${dbName}`;
const pool = createPool(url.toString(), 2);
// The final drop (with force) may end a connection the pool is still closing.
pool.on('error', (err) => err.message.includes('administrator command') || err_(err));

try {
  const config = loadConfig({ DATABASE_URL: url.toString() });
  let timescale = false;
  await migrate(pool, { logger, after: async (c) => void (timescale = await setupStorage(c, config, logger)) });
  if (!timescale) {
    const c = await pool.connect();
    try {
      for (let m = monthStart(dataset.start); m.getTime() < end.getTime(); m = addMonths(m, 1)) await ensureMonth(c, m);
    } finally {
      c.release();
    }
  }
  const t0 = Date.now();
  await loadDataset(pool, dataset, (done, total) => done % 20 === 0 && err(`COPY ${done}/${total} devices`));
  // The dashboards' variables and maps need the registry's road and position fields.
  await pool.query(`update devices set road = jsonb_build_object('route', 'RD' || (100 + abs(hashtext(id)) % 5), 'pr', 1, 'direction', 'both'),
                                       lat = 46.5 + (abs(hashtext(id)) % 100) / 500.0, lon = 0.3 + (abs(hashtext(id || 'x')) % 100) / 500.0
                     where domain = 'roads'`);
  if (!timescale) {
    await rebuildRollups(pool);
  } else {
    await pool.query(`call refresh_continuous_aggregate('cagg_series_hourly', null, null)`);
    await pool.query(`call refresh_continuous_aggregate('cagg_series_daily', null, null)`);
  }
  await pool.query('vacuum analyze');
  const observations = Number((await pool.query('select count(*)::bigint as n from observation_rows')).rows[0].n);
  err(`loaded ${observations.toLocaleString('en')} observations and rollups in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  const runs = Number(opts.runs);
  const results: unknown[] = [];
  for (const [file, d] of Object.entries(buildDashboards())) {
    const dashboard = JSON.parse(JSON.stringify(d)) as DashboardJson;
    for (const range of RANGES) {
      const from = new Date(end.getTime() - range.ms);
      const variables = await resolveVariables(pool, dashboard, { from, to: end, intervalMs: range.intervalMs });
      for (const target of sqlTargets(dashboard)) {
        const sql = expandGrafanaSql(target.rawSql, { from, to: end, intervalMs: range.intervalMs, variables });
        let rows = 0;
        const timing = await time(async () => (rows = (await pool.query(sql)).rowCount ?? 0), runs);
        results.push({ dashboard: file, panel: target.panel, refId: target.refId, range: range.name, interval: formatInterval(range.intervalMs), rows, ...timing });
        err(`${file} ${target.panel} [${target.refId}] ${range.name}@${formatInterval(range.intervalMs)}: ${timing.medianMs} ms, ${rows} rows`);
      }
    }
  }
  const slowest = [...(results as Array<{ medianMs: number }>)].sort((a, b) => b.medianMs - a.medianMs).slice(0, 5);
  process.stdout.write(
    `${JSON.stringify({ storage: timescale ? 'timescaledb' : 'postgresql', dataset: { ...dataset, observations }, cpus: os.cpus().length, runs, panels: results, slowest }, null, 2)}\n`,
  );
} finally {
  await pool.end();
  if (!opts.keep) await admin.query(`drop database ${dbName} with (force)`);
  else err(`kept database ${dbName}`);
  await admin.end();
}
