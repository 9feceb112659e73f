/**
 * Sealed months, plain PostgreSQL's counterpart of TimescaleDB compression
 * (once/070_sealed_months.sql): a month partition of observation_values that ended more than
 * VIGIE_COMPRESS_AFTER_DAYS ago is rewritten sorted by (series_id, time) into a partition of
 * observation_values_sealed, which has no primary key, only a BRIN index; the hot partition and
 * its primary-key index are dropped. Readers see both through the observation_rows view.
 *
 * Two phases per month, oldest first:
 * 1. without any lock that blocks the ingest: copy the month, sorted, into a new table, build
 *    its BRIN and a CHECK constraint matching the partition bound (so ATTACH does not scan);
 * 2. one short transaction: the seal lock in exclusive mode (every writer holds it in shared
 *    mode, services/store/write-batch.ts), the month locked against writes; rows that arrived
 *    since phase 1 (none are ever deleted from a hot month: comparing counts suffices) make it
 *    copy again under the lock; then the month is detached, the copy attached to
 *    observation_values_sealed, sealed_before moved to the month's end and the hot month dropped.
 * A crash between the phases leaves an unattached copy that the next pass drops and redoes.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import { LOCK_CLASS, SEAL_LOCK } from '../cluster/keys.ts';
import { addMonths, partitionName, PARTITION_RE } from './partitions.ts';

export interface SealedMonth {
  partition: string;
  rows: number;
  /** Phase 1 (no lock blocking the ingest) and phase 2 (exclusive), in milliseconds. */
  copyMs: number;
  swapMs: number;
  recopied: boolean;
}

export function sealedName(monthStart: Date): string {
  return partitionName(monthStart).replace(/^observation_values_/, 'observation_values_sealed_');
}

/** The boundary: rows before it are sealed (null when nothing is). */
export async function sealedBefore(client: pg.ClientBase): Promise<Date | null> {
  const { rows } = await client.query<{ t: Date | null }>(`select nullif(sealed_before, '-infinity') as t from observation_seal`);
  return rows[0]?.t ?? null;
}

/** Hot month partitions of observation_values, oldest first. */
async function hotMonths(client: pg.ClientBase): Promise<Date[]> {
  const { rows } = await client.query<{ relname: string }>(
    `select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'observation_values'::regclass`,
  );
  const months: Date[] = [];
  for (const { relname } of rows) {
    const m = PARTITION_RE.exec(relname);
    if (m) months.push(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)));
  }
  return months.sort((a, b) => a.getTime() - b.getTime());
}

/**
 * Seals every month that ended before `now - afterDays` (0 disables), oldest first; stops at
 * the first failure (a later month is never sealed before an earlier one). `lockTimeoutMs`
 * bounds the wait of phase 2 for the locks (long readers of the month): the month is then
 * retried on the next pass.
 */
export async function sealMonths(pool: pg.Pool, now: Date, afterDays: number, options: SealOptions = {}): Promise<SealedMonth[]> {
  if (afterDays <= 0) return [];
  return sealMonthsEndingBy(pool, new Date(now.getTime() - afterDays * 86400_000), options);
}

export interface SealOptions {
  logger?: Logger;
  lockTimeoutMs?: number;
}

/** Seals every hot month that ends at or before `limitDate`, oldest first (bulk loads, benchmarks). */
export async function sealMonthsEndingBy(pool: pg.Pool, limitDate: Date, options: SealOptions = {}): Promise<SealedMonth[]> {
  const limit = limitDate.getTime();
  const client = await pool.connect();
  const sealed: SealedMonth[] = [];
  try {
    for (const month of await hotMonths(client)) {
      if (addMonths(month, 1).getTime() > limit) break;
      const done = await sealMonth(client, month, options.lockTimeoutMs ?? 10_000);
      sealed.push(done);
      options.logger?.info({ ...done }, 'observation month sealed');
    }
  } finally {
    client.release();
  }
  return sealed;
}

/** `betweenPhases`: called after phase 1 (tests write a late row there). */
export async function sealMonth(client: pg.ClientBase, from: Date, lockTimeoutMs = 10_000, betweenPhases?: () => Promise<void>): Promise<SealedMonth> {
  const to = addMonths(from, 1);
  const hot = partitionName(from);
  const target = sealedName(from);
  const bound = `for values from ('${from.toISOString()}') to ('${to.toISOString()}')`;
  const copy = `insert into ${target} select * from ${hot} order by series_id, time`;
  const started = Date.now();
  // Phase 1: nothing here blocks the ingest (the hot month is only read). A copy left by an
  // interrupted pass is dropped; an attached one would mean the month is sealed already.
  const { rows: attached } = await client.query(`select 1 from pg_inherits where inhrelid = to_regclass($1)`, [target]);
  if (attached.length > 0) throw new Error(`${target} is already a sealed month while ${hot} exists`);
  await client.query(`drop table if exists ${target}`);
  await client.query(`create table ${target} (like observation_values_sealed including defaults) with (fillfactor = 100)`);
  const copied = (await client.query(copy)).rowCount ?? 0;
  // The partitioned index's definition (pages_per_range included) is the one to match, so
  // ATTACH adopts this index instead of building another.
  const { rows: idx } = await client.query<{ def: string }>(
    `select pg_get_indexdef(i.indexrelid) as def from pg_index i where i.indrelid = 'observation_values_sealed'::regclass`,
  );
  for (const { def } of idx) await client.query(def.replace(/^CREATE INDEX \S+ ON ONLY \S+/, `CREATE INDEX ON ${target}`));
  await client.query(`alter table ${target} add constraint ${target}_bound check (time >= '${from.toISOString()}' and time < '${to.toISOString()}')`);
  // Sealed pages are never updated: frozen and all-visible now rather than by a later
  // anti-wraparound vacuum, and planner statistics at once.
  await client.query(`vacuum (freeze, analyze) ${target}`);
  const copyMs = Date.now() - started;
  await betweenPhases?.();
  // Phase 2: one short transaction.
  const swapStart = Date.now();
  let recopied = false;
  let rows = copied;
  await client.query('begin');
  try {
    await client.query(`set local lock_timeout = ${Math.floor(lockTimeoutMs)}`);
    await client.query(`select pg_advisory_xact_lock($1, $2)`, [LOCK_CLASS, SEAL_LOCK]);
    await client.query(`lock table ${hot} in share mode`);
    const { rows: count } = await client.query<{ n: string }>(`select count(*) as n from ${hot}`);
    if (Number(count[0]!.n) !== copied) {
      recopied = true;
      await client.query(`truncate ${target}`);
      rows = (await client.query(copy)).rowCount ?? 0;
    }
    await client.query(`alter table observation_values detach partition ${hot}`);
    await client.query(`alter table observation_values_sealed attach partition ${target} ${bound}`);
    await client.query(`update observation_seal set sealed_before = greatest(sealed_before, $1)`, [to.toISOString()]);
    await client.query(`drop table ${hot}`);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
  // Ranges filled by the copy under the lock were not summarized by the index build.
  if (recopied) await client.query(`select brin_summarize_new_values(i.indexrelid) from pg_index i where i.indrelid = $1::regclass`, [target]);
  return { partition: target, rows, copyMs, swapMs: Date.now() - swapStart, recopied };
}

/**
 * Rows of sealed months that reached the hot default partition (a writer that does not route
 * by sealed_before, such as a bulk COPY): moved to observation_values_sealed, keeping keys
 * already stored there once. Under the seal lock, exclusive: no writer of late rows runs.
 */
export async function moveSealedDefaultRows(client: pg.ClientBase): Promise<number> {
  await client.query('begin');
  try {
    await client.query(`select pg_advisory_xact_lock($1, $2)`, [LOCK_CLASS, SEAL_LOCK]);
    const { rowCount } = await client.query(
      `with moved as (delete from observation_values_default d using observation_seal s where d.time < s.sealed_before returning d.*)
       insert into observation_values_sealed
       select distinct on (series_id, time) * from moved m
        where not exists (select 1 from observation_values_sealed x where x.series_id = m.series_id and x.time = m.time)
        order by series_id, time`,
    );
    await client.query('commit');
    return rowCount ?? 0;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}
