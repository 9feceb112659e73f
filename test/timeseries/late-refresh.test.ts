/**
 * TimescaleDB: the explicit aggregate refresh the timeseries module runs for late rows older
 * than the refresh-policy window must not be lost when TimescaleDB refuses it because an
 * overlapping refresh is in progress (a policy run): the range is kept and refreshed on a later
 * pass. Without it, those rows would stay below the watermark, in no aggregate.
 *
 * The overlapping refresh is a real one, held in progress by a lock on the aggregate's
 * materialization table, then cancelled (so it materializes nothing itself).
 */
import pg from 'pg';
import pino from 'pino';
import t from 'tap';
import type { Batch } from '../../ingest/running-sink.ts';
import { refreshAggregate } from '../../services/store/timescale.ts';
import { StorageMaintenance } from '../../services/timeseries/maintenance.ts';
import { timescaleTest } from '../helpers/database.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

await timescaleTest(t, 'a late-data refresh refused by an overlapping refresh is retried, not dropped', async (t) => {
  const tp = await startTestPlatform({ storage: 'timescale' });
  const pool = tp.platform.pool;
  const url = tp.db!.url;
  const holder = new pg.Client({ connectionString: url });
  const blocked = new pg.Client({ connectionString: url });
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  const maintenance = new StorageMaintenance({ pool, logger, timescale: true, rollupIntervalMs: 3_600_000, retentionDays: 0, rollupLateDays: 35 });
  t.teardown(async () => {
    await holder.query('rollback').catch(() => {});
    await holder.end().catch(() => {});
    await blocked.end().catch(() => {});
    await maintenance.stop();
    await tp.stop();
  });

  // The aggregates hold recent data, so their watermark is past January (as once the policies
  // have run); then a row older than the 35-day window arrives, written without the refresh
  // the ingest's commit sets off.
  await pool.query(`insert into observations (device_id, metric, channel, time, received_at, value, quality) values ('recent', 'co2', '', now() - interval '2 days', now(), 1, 0)`);
  for (const view of ['cagg_hourly', 'cagg_daily'] as const) await refreshAggregate(pool, view, new Date(Date.now() - 35 * 86400_000), new Date(Date.now() - 3600_000));
  const time = new Date('2026-01-10T10:15:00Z');
  await pool.query(`insert into observations (device_id, metric, channel, time, received_at, value, quality) values ('late', 'co2', '', $1, now(), 700, 0)`, [time]);
  const daily = async () => (await pool.query(`select n::int from cagg_daily where device_id = 'late'`)).rows;
  t.same(await daily(), [], 'below the watermark and not materialized: in no daily aggregate yet');

  // A refresh of the daily aggregate over the whole history, held in progress.
  const { rows } = await pool.query(`select format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) as rel from timescaledb_information.continuous_aggregates where view_name = 'cagg_series_daily'`);
  await holder.connect();
  await blocked.connect();
  await holder.query('begin');
  await holder.query(`lock table ${rows[0].rel} in access exclusive mode`);
  const blockedPid = (await blocked.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  const inProgress = blocked.query(`call refresh_continuous_aggregate('cagg_series_daily', null, now() - interval '30 days')`).then(
    () => 'completed',
    (err: { code?: string }) => err.code,
  );
  await waitFor(async () => (await pool.query(`select 1 from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'`, [blockedPid])).rows.length === 1, 10_000, 'the overlapping refresh to wait on the lock');

  maintenance.onCommitted({ observations: [{ time }], deadLetters: [], devicesSeen: new Map() } as unknown as Batch);
  await waitFor(async () => warnings.some((w) => w.includes('concurrent refresh')), 30_000, 'the refused refresh to be reported');

  // The overlapping refresh ends without materializing anything (reading the aggregate waits
  // for the lock, so only now); the next pass does the work.
  await pool.query('select pg_cancel_backend($1)', [blockedPid]);
  t.equal(await inProgress, '57014', 'the overlapping refresh was cancelled');
  await holder.query('rollback');
  t.same(await daily(), [], 'refused: still not in the aggregate');
  maintenance.kick();
  await waitFor(async () => (await daily()).length > 0, 30_000, 'the late row to reach the daily aggregate');
  t.same(await daily(), [{ n: 1 }], 'the kept range was refreshed on a later pass');
});
