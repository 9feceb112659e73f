/**
 * Upgrading a database written by the previous storage layout (wide observation rows keyed by
 * device, metric and channel text) to the narrow one (once/050_narrow_observations.sql): the
 * previous migrations are taken from git history (the commit before 050 was added), data goes
 * in through the previous write path's SQL, then the current Vigie starts on that database.
 * Nothing is lost, and the API answers what the previous rows say, in both storage modes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import t from 'tap';
import { listMigrations, migrate } from '../services/store/migrate.ts';
import { qualityFlags } from '../schemas/index.ts';
import { startTestPlatform } from './helpers/platform.ts';
import { createTestDatabase, forEachStorageMode } from './helpers/database.ts';

const repo = path.resolve(import.meta.dirname, '..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });

/** The migrations folder as it was before the narrow layout. */
function previousMigrations(): string {
  const added = git('log', '--diff-filter=A', '--format=%H', '--', 'services/store/migrations/once/050_narrow_observations.sql').trim().split('\n').pop()!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-old-migrations-'));
  for (const kind of ['once', 'repeatable']) {
    mkdirSync(path.join(dir, kind));
    for (const file of git('ls-tree', '--name-only', `${added}^:services/store/migrations/${kind}`).trim().split('\n')) {
      writeFileSync(path.join(dir, kind, file), git('show', `${added}^:services/store/migrations/${kind}/${file}`));
    }
  }
  return dir;
}

const H = 3_600_000;
const T0 = Date.parse('2026-02-10T00:00:00Z');
/** Two devices, channels, a flagged quality, late data and several receive times. */
function previousRows() {
  const rows: Array<[string, string, string, string, string, number, number]> = [];
  for (let i = 0; i < 96; i++) {
    const time = new Date(T0 + i * 15 * 60_000).toISOString();
    const received = new Date(T0 + i * 15 * 60_000 + 1200 + (i % 3)).toISOString();
    // Binary fractions: sums are exact whatever order the rows are added in.
    rows.push(['up-ws-1', 'air_temperature', '', time, received, -2 + i / 4, i === 7 ? 1 : 0]);
    rows.push(['up-ws-1', 'surface_temperature', '', time, received, -3 + i / 8, 0]);
    rows.push(['up-tc-1', 'vehicle_count', 'lane1', time, received, i % 13, 0]);
    rows.push(['up-tc-1', 'vehicle_count', 'lane2', time, received, i % 7, 0]);
  }
  return rows;
}

/** The previous write path (write-batch.ts before the narrow layout), statement for statement. */
async function writePrevious(pool: pg.Pool, rows: ReturnType<typeof previousRows>) {
  const col = (k: number) => rows.map((r) => r[k]);
  const params = [col(0), col(1), col(2), col(3), col(4), col(5), col(6)];
  await pool.query(
    `insert into observations (device_id, metric, channel, time, received_at, value, quality)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::float8[], $7::int2[]) as u(d, m, c, t, r, v, q)
      order by d, m, c, t
     on conflict do nothing`,
    params,
  );
  await pool.query(
    `insert into latest_observations (device_id, metric, channel, time, received_at, value, quality)
     select distinct on (d, m, c) d, m, c, t, r, v, q
       from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::float8[], $7::int2[]) as u(d, m, c, t, r, v, q)
      order by d, m, c, t desc
     on conflict (device_id, metric, channel) do update
       set time = excluded.time, received_at = excluded.received_at, value = excluded.value, quality = excluded.quality
       where excluded.time >= latest_observations.time`,
    params,
  );
}

interface Snapshot {
  observations: unknown[];
  latest: unknown[];
}

async function snapshot(pool: pg.Pool): Promise<Snapshot> {
  return {
    observations: (await pool.query(`select device_id, metric, channel, time, received_at, value, quality from observations order by device_id, metric, channel, time`)).rows,
    latest: (await pool.query(`select device_id, metric, channel, time, received_at, value, quality from latest_observations order by device_id, metric, channel`)).rows,
  };
}

await forEachStorageMode(t, async (t, storage) => {
  const mode = storage === 'plain' ? 'plain' : 'timescaledb';
  await t.test('a database of the previous layout is upgraded without loss', async (t) => {
    const db = await createTestDatabase('upgrade', storage);
    t.teardown(() => db.drop());
    const old = previousMigrations();
    t.teardown(() => rmSync(old, { recursive: true, force: true }));
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    t.teardown(() => pool.end());
    await migrate(pool, { logger: pino({ level: 'silent' }) }, listMigrations(old));
    if (mode === 'timescaledb') {
      // The previous TimescaleDB set-up (services/store/timescale.ts before the narrow layout).
      await pool.query(`create extension if not exists timescaledb`);
      await pool.query(`select create_hypertable('observations', by_range('time', interval '7 days'), migrate_data => true)`);
      await pool.query(`alter table observations set (timescaledb.compress, timescaledb.compress_segmentby = 'device_id, metric', timescaledb.compress_orderby = 'channel, time desc')`);
      for (const [view, bucket] of [['cagg_hourly', `time_bucket(interval '1 hour', time)`], ['cagg_daily', `time_bucket(interval '1 day', time, 'Europe/Paris')`]]) {
        await pool.query(`create materialized view ${view} with (timescaledb.continuous, timescaledb.materialized_only = false) as
          select device_id, metric, channel, ${bucket} as bucket, count(*) as n, sum(value) as sum, min(value) as min, max(value) as max,
                 min(time) as first_time, first(value, time) as first_value, max(time) as last_time, last(value, time) as last_value
            from observations group by device_id, metric, channel, ${bucket} with no data`);
      }
    } else {
      await pool.query(`create trigger observations_rollup_dirty after insert on observations referencing new table as new_rows for each statement execute function vigie_mark_rollups_dirty()`);
    }
    const rows = previousRows();
    await writePrevious(pool, rows.slice(0, 200));
    await writePrevious(pool, rows.slice(150)); // overlapping: a redelivery
    if (mode === 'timescaledb') {
      await pool.query(`call refresh_continuous_aggregate('cagg_hourly', null, null)`);
      // Part of the history compressed, as the policy would.
      await pool.query(`select compress_chunk(c) from show_chunks('observations') c`);
    } else {
      // Half the dirty hours rolled up by the previous worker's SQL, half still stale.
      await pool.query(`insert into rollup_hourly
        select device_id, metric, channel, date_trunc('hour', time, 'UTC'), count(*), sum(value), min(value), max(value),
               min(time), (array_agg(value order by time))[1], max(time), (array_agg(value order by time desc))[1]
          from observations where time < '2026-02-10T12:00:00Z' group by 1, 2, 3, 4`);
      await pool.query(`delete from rollup_dirty where hour < '2026-02-10T12:00:00Z'`);
    }
    const before = await snapshot(pool);
    t.equal(before.observations.length, rows.length, 'the previous layout holds every row once');
    const hourlyBefore = (await pool.query(`select device_id, metric, channel, bucket, n::int, sum, min, max, last_value from ${mode === 'plain' ? 'series_hourly' : 'cagg_hourly'} order by 1, 2, 3, 4`)).rows;

    const tp = await startTestPlatform({ db, env: { VIGIE_RULES_DIR: '/nonexistent' } });
    t.teardown(() => tp.stop());
    t.equal(tp.platform.timescale, mode === 'timescaledb');
    const after = await snapshot(tp.platform.pool);
    t.same(after, before, 'observations and latest values read the same through the views');
    const { rows: left } = await tp.platform.pool.query(`select count(*)::int as n from pg_class where relname like '%\\_v1' escape '\\'`);
    t.equal(left[0].n, 0, 'no relation of the previous layout is left behind');
    const relation = mode === 'plain' ? 'series_hourly' : 'cagg_hourly';
    const hourlyAfter = (await tp.platform.pool.query(`select device_id, metric, channel, bucket, n::int, sum, min, max, last_value from ${relation} order by 1, 2, 3, 4`)).rows;
    t.same(hourlyAfter, hourlyBefore, 'hourly rollups answer the same');

    // The API: what the previous rows say, item for item.
    const expected = (before.observations as Array<Record<string, unknown>>)
      .filter((r) => r.device_id === 'up-ws-1' && r.metric === 'air_temperature')
      .map((r) => ({
        time: (r.time as Date).toISOString(),
        deviceId: r.device_id,
        metric: r.metric,
        channel: r.channel,
        value: r.value,
        unit: '°C',
        quality: qualityFlags(r.quality as number),
        receivedAt: (r.received_at as Date).toISOString(),
      }));
    const page = await tp.get<{ items: unknown[] }>(`/api/v1/observations?device=up-ws-1&metric=air_temperature&limit=1000`);
    t.equal(page.status, 200);
    t.same(page.body.items, expected, 'GET /api/v1/observations');
    t.ok(expected.some((e) => e.quality.length > 0), 'a flagged quality survives');
    const latest = await tp.get<{ items: Array<Record<string, unknown>> }>(`/api/v1/devices/up-tc-1/latest`);
    t.same(
      latest.body.items.map((i) => [i.channel, i.value, i.time, i.receivedAt]),
      (before.latest as Array<Record<string, unknown>>).filter((l) => l.device_id === 'up-tc-1').map((l) => [l.channel, l.value, (l.time as Date).toISOString(), (l.received_at as Date).toISOString()]),
      'GET /api/v1/devices/:id/latest',
    );
    const series = await tp.get<{ source: string; series: Array<{ channel: string; points: Array<{ time: string; sum: number; count: number }> }> }>(
      `/api/v1/series?device=up-tc-1&metric=vehicle_count&from=2026-02-10T00:00:00Z&to=2026-02-11T00:00:00Z&bucket=1h&agg=sum,count`,
    );
    t.equal(series.body.source, 'hourly');
    const fromRollups = series.body.series.flatMap((s) => s.points.filter((p) => p.count > 0).map((p) => [s.channel, p.time, p.sum, p.count]));
    const fromRows = (hourlyBefore as Array<Record<string, unknown>>)
      .filter((h) => h.device_id === 'up-tc-1')
      .map((h) => [h.channel, (h.bucket as Date).toISOString(), h.sum, h.n]);
    t.same(fromRollups, fromRows, 'GET /api/v1/series from rollups');

    // The upgraded database keeps taking data through the new write path, idempotently.
    const pub = await tp.publisher();
    const payload = JSON.stringify({ ts: '2026-02-11T00:00:00Z', metrics: { air_temperature: 1.5 } });
    for (let i = 0; i < 2; i++) await pub.publishAsync(`${tp.prefix}vigie/up-ws-1/telemetry`, payload, { qos: 1 });
    const deadline = Date.now() + 20_000;
    let n = 0;
    while (Date.now() < deadline && (n = (await tp.platform.pool.query(`select count(*)::int as n from observations where device_id = 'up-ws-1' and time = '2026-02-11T00:00:00Z'`)).rows[0].n) === 0) {
      await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(n, 1, 'new data lands in the existing series, once');
    const { rows: ids } = await tp.platform.pool.query(`select count(*)::int as n from series where device_id = 'up-ws-1' and metric = 'air_temperature'`);
    t.equal(ids[0].n, 1, 'one series id per (device, metric, channel)');
  });
});
