/**
 * `npm run bench:storage`: bytes on disk per observation, indexes included, in both storage
 * modes, on the query benchmark's regular sensor data (bench/query/dataset.ts, loaded with COPY):
 * - plain PostgreSQL: every monthly partition of observation_values (heap, primary key, TOAST),
 *   then every complete month sealed (services/timeseries/sealing.ts: sorted rows, BRIN, no
 *   primary key), per observation of the sealed months, with the time sealing took;
 * - TimescaleDB: the hypertable before compression, then every chunk compressed (segment by
 *   series id, as the compression policy does), per observation of the compressed chunks.
 * Prints JSON on stdout; progress on stderr.
 *
 *   npm run bench:storage -- [--lanes 20] [--road-stations 4] [--buildings 4] [--days 60]
 *
 * Servers: BENCH_DATABASE_ADMIN_URL (plain, default 127.0.0.1:5432) and BENCH_TIMESCALE_ADMIN_URL
 * (a server with timescaledb preloaded, default 127.0.0.1:5433); a mode whose server is missing
 * is reported as skipped.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Command } from 'commander';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../services/config.ts';
import { migrate } from '../services/store/migrate.ts';
import { addMonths, ensureMonth, monthStart } from '../services/timeseries/partitions.ts';
import { sealMonthsEndingBy } from '../services/timeseries/sealing.ts';
import { setupStorage } from '../services/timeseries/storage.ts';
import { devicesFor, loadDataset, type DatasetOptions } from './query/dataset.ts';

const opts = new Command()
  .option('--lanes <n>', 'traffic lanes (two per station)', '20')
  .option('--road-stations <n>', 'road-weather stations', '4')
  .option('--buildings <n>', 'buildings (one energy meter each)', '4')
  .option('--zones <n>', 'zones per building', '3')
  .option('--days <n>', 'days of data from 1 January 2025', '60')
  .parse()
  .opts<{ lanes: string; roadStations: string; buildings: string; zones: string; days: string }>();

const dataset: DatasetOptions = {
  lanes: Number(opts.lanes),
  roadStations: Number(opts.roadStations),
  buildings: Number(opts.buildings),
  zonesPerBuilding: Number(opts.zones),
  days: Number(opts.days),
  start: new Date('2025-01-01T00:00:00Z'),
  seed: 42,
};
const logger = pino({ level: 'warn' }, pino.destination(2));
const err = (s: string) => process.stderr.write(`${s}\n`);
const round = (x: number) => Math.round(x * 10) / 10;

async function measure(adminUrl: string, mode: 'off' | 'require'): Promise<Record<string, unknown>> {
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (e) {
    return { skipped: `no server at ${adminUrl}: ${(e as Error).message}` };
  }
  const name = `vigie_bench_storage_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 3 });
  pool.on('error', (e) => err(`idle connection lost: ${e.message}`));
  try {
    const config = loadConfig({ DATABASE_URL: url.toString(), VIGIE_TIMESCALE: mode });
    let timescale = false;
    await migrate(pool, { logger, after: async (c) => void (timescale = await setupStorage(c, config, logger)) });
    if (!timescale) {
      const c = await pool.connect();
      try {
        for (let m = monthStart(dataset.start); m.getTime() < dataset.start.getTime() + dataset.days * 86400_000; m = addMonths(m, 1)) await ensureMonth(c, m);
      } finally {
        c.release();
      }
    }
    const t0 = Date.now();
    await loadDataset(pool, dataset, () => {});
    const loadSeconds = (Date.now() - t0) / 1000;
    await pool.query('vacuum analyze observation_values');
    const n = Number((await pool.query(`select count(*)::bigint as n from observation_values`)).rows[0].n);
    err(`${mode === 'off' ? 'plain' : 'timescaledb'}: ${n} observations loaded in ${loadSeconds.toFixed(1)} s`);
    const one = async (sql: string) => Number((await pool.query(sql)).rows[0].b);
    const out: Record<string, unknown> = { storage: timescale ? 'timescaledb' : 'plain-postgresql', observations: n, copyRowsPerSecond: Math.round(n / loadSeconds) };
    if (!timescale) {
      const parts = `select inhrelid from pg_inherits where inhparent = 'observation_values'::regclass`;
      const total = await one(`select sum(pg_total_relation_size(inhrelid))::bigint as b from (${parts}) p`);
      const heap = await one(`select sum(pg_relation_size(inhrelid))::bigint as b from (${parts}) p`);
      const indexes = await one(`select sum(pg_indexes_size(inhrelid))::bigint as b from (${parts}) p`);
      out.bytesPerObservation = round(total / n);
      out.heapBytesPerObservation = round(heap / n);
      out.indexBytesPerObservation = round(indexes / n);
      // Every month that ended by the dataset's end sealed, as the TimescaleDB path below
      // compresses every chunk (the maintenance seals those older than VIGIE_COMPRESS_AFTER_DAYS).
      const t1 = Date.now();
      const sealed = await sealMonthsEndingBy(pool, new Date(dataset.start.getTime() + dataset.days * 86400_000));
      const sealSeconds = (Date.now() - t1) / 1000;
      const sealedRows = sealed.reduce((a, s) => a + s.rows, 0);
      if (sealedRows > 0) {
        const sealedParts = `select inhrelid from pg_inherits where inhparent = 'observation_values_sealed'::regclass`;
        out.sealedMonths = sealed.length;
        out.sealedObservations = sealedRows;
        out.sealedBytesPerObservation = round((await one(`select sum(pg_total_relation_size(inhrelid))::bigint as b from (${sealedParts}) p`)) / sealedRows);
        out.sealedHeapBytesPerObservation = round((await one(`select sum(pg_relation_size(inhrelid))::bigint as b from (${sealedParts}) p`)) / sealedRows);
        out.sealedIndexBytes = await one(`select sum(pg_indexes_size(inhrelid))::bigint as b from (${sealedParts}) p`);
        out.sealSeconds = round(sealSeconds);
        out.sealMonthSeconds = sealed.map((s) => ({ month: s.partition, rows: s.rows, copySeconds: round(s.copyMs / 1000), swapMs: s.swapMs }));
      }
    } else {
      out.uncompressedBytesPerObservation = round((await one(`select hypertable_size('observation_values')::bigint as b`)) / n);
      await pool.query(`select compress_chunk(c, if_not_compressed => true) from show_chunks('observation_values') c`);
      await pool.query('vacuum analyze observation_values');
      const after = await one(`select sum(after_compression_total_bytes)::bigint as b from chunk_compression_stats('observation_values')`);
      out.compressedChunks = Number((await pool.query(`select count(*)::int as n from chunk_compression_stats('observation_values') where compression_status = 'Compressed'`)).rows[0].n);
      out.compressedBytesPerObservation = round(after / n);
      out.hypertableBytesPerObservation = round((await one(`select hypertable_size('observation_values')::bigint as b`)) / n);
    }
    // What the layout adds besides the rows: one series row per (device, metric, channel), one
    // batch row per commit, one latest value per series.
    out.series = Number((await pool.query(`select count(*)::int as n from series`)).rows[0].n);
    out.sideTablesBytes = await one(`select (pg_total_relation_size('series') + pg_total_relation_size('ingest_batches') + pg_total_relation_size('latest_values'))::bigint as b`);
    return out;
  } finally {
    await pool.end();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

const plain = await measure(process.env.BENCH_DATABASE_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres', 'off');
const timescale = await measure(process.env.BENCH_TIMESCALE_ADMIN_URL || 'postgres://postgres@127.0.0.1:5433/postgres', 'require');
process.stdout.write(
  `${JSON.stringify({ machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) }, dataset: { ...dataset, devices: devicesFor(dataset).length }, plain, timescale }, null, 2)}\n`,
);
