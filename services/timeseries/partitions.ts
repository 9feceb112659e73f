/**
 * Plain-PostgreSQL storage: observation_values (the narrow observation rows,
 * once/050_narrow_observations.sql) as a table partitioned by month of `time` (UTC),
 * so retention drops whole partitions (a catalog operation) instead of deleting rows, and a
 * default partition so a late observation for a month without a partition is never refused.
 * The maintenance pass moves such rows into their month's partition and attaches it. Months
 * before observation_seal.sealed_before are sealed (services/timeseries/sealing.ts): they never
 * get a hot partition again, and their late rows go to observation_values_sealed.
 */
import type pg from 'pg';
import { listMigrations } from '../store/migrate.ts';
import { moveSealedDefaultRows, sealedBefore } from './sealing.ts';

export const PARTITION_RE = /^observation_values_y(\d{4})m(\d{2})$/;
const SEALED_RE = /^observation_values_sealed_y(\d{4})m(\d{2})$/;

export function partitionName(monthStart: Date): string {
  return `observation_values_y${monthStart.getUTCFullYear()}m${String(monthStart.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function monthStart(t: Date): Date {
  return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1));
}

export function addMonths(t: Date, n: number): Date {
  return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + n, 1));
}

export async function isPartitioned(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query(`select relkind from pg_class where oid = 'observation_values'::regclass`);
  return rows[0]?.relkind === 'p';
}

/**
 * Turns the plain observation_values table of 050_narrow_observations.sql into the partitioned one, keeping the
 * primary key (idempotent inserts) and indexes. Runs once, inside the migration lock.
 */
export async function convertToPartitioned(client: pg.ClientBase): Promise<void> {
  if (await isPartitioned(client)) return;
  await client.query('begin');
  try {
    // The new table is derived from the old one, never re-declared here: columns that later
    // once-migrations add, and the primary key and indexes as they stand, carry over.
    const { rows: pk } = await client.query<{ name: string; def: string }>(
      `select conname as name, pg_get_constraintdef(oid) as def from pg_constraint where conrelid = 'observation_values'::regclass and contype = 'p'`,
    );
    const { rows: indexes } = await client.query<{ name: string; def: string }>(
      `select c.relname as name, pg_get_indexdef(i.indexrelid) as def
         from pg_index i join pg_class c on c.oid = i.indexrelid
        where i.indrelid = 'observation_values'::regclass and not i.indisprimary order by c.relname`,
    );
    await client.query(`alter table observation_values rename to observation_values_unpartitioned`);
    for (const { name } of pk) await client.query(`alter table observation_values_unpartitioned rename constraint ${name} to ${name}_unpartitioned`);
    for (const { name } of indexes) await client.query(`alter index ${name} rename to ${name}_unpartitioned`);
    await client.query(`create table observation_values (like observation_values_unpartitioned including defaults including generated) partition by range (time)`);
    // A partitioned table's primary key must hold the partition key: (series_id, time) does.
    for (const { name, def } of pk) await client.query(`alter table observation_values add constraint ${name} ${def}`);
    for (const { def } of indexes) await client.query(def);
    await client.query(`create table observation_values_default partition of observation_values default`);
    const { rows } = await client.query<{ m: Date }>(`select distinct date_trunc('month', time, 'UTC') as m from observation_values_unpartitioned`);
    for (const r of rows) await createMonth(client, r.m);
    await client.query(`insert into observation_values select * from observation_values_unpartitioned`);
    // Objects other migrations hung on the old table move to the new one: user triggers are
    // re-created from their definitions, dependent views from theirs (then repeatable
    // migrations are re-applied), so the conversion never silently drops someone's work.
    const { rows: triggers } = await client.query<{ def: string }>(
      `select pg_get_triggerdef(oid) as def from pg_trigger where tgrelid = 'observation_values_unpartitioned'::regclass and not tgisinternal order by oid`,
    );
    const { rows: views } = await client.query<{ name: string; def: string }>(
      `select distinct c.oid, c.oid::regclass::text as name, pg_get_viewdef(c.oid) as def
         from pg_depend d join pg_rewrite r on r.oid = d.objid join pg_class c on c.oid = r.ev_class
        where d.refobjid = 'observation_values_unpartitioned'::regclass and c.relkind = 'v' order by c.oid`,
    );
    await client.query(`drop table observation_values_unpartitioned cascade`);
    const retarget = (sql: string) => sql.replace(/\bobservation_values_unpartitioned\b/g, 'observation_values');
    for (const t of triggers) await client.query(retarget(t.def));
    for (const v of views) await client.query(`create or replace view ${v.name} as ${retarget(v.def)}`);
    for (const m of listMigrations().filter((f) => f.kind === 'repeatable')) await client.query(m.sql);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}

async function createMonth(client: pg.ClientBase, start: Date): Promise<void> {
  const from = monthStart(start);
  const to = addMonths(from, 1);
  await client.query(
    `create table if not exists ${partitionName(from)} partition of observation_values for values from ('${from.toISOString()}') to ('${to.toISOString()}')`,
  );
}

/**
 * Creates the month partition for `start` if missing. Rows already in the default partition
 * for that month are moved in first (attaching would otherwise fail the default's constraint);
 * they are few: only late data that arrived before its month had a partition.
 */
export async function ensureMonth(client: pg.ClientBase, start: Date): Promise<boolean> {
  const from = monthStart(start);
  const to = addMonths(from, 1);
  const name = partitionName(from);
  const { rows } = await client.query(`select 1 from pg_class where relname = $1`, [name]);
  if (rows.length > 0) return false;
  // A sealed month never gets a hot partition again.
  const sealed = await sealedBefore(client);
  if (sealed && from < sealed) return false;
  await client.query('begin');
  try {
    await client.query(`create table ${name} (like observation_values including defaults including constraints)`);
    await client.query(
      `with moved as (delete from observation_values_default where time >= $1 and time < $2 returning *) insert into ${name} select * from moved`,
      [from.toISOString(), to.toISOString()],
    );
    await client.query(`alter table observation_values attach partition ${name} for values from ('${from.toISOString()}') to ('${to.toISOString()}')`);
    await client.query('commit');
    return true;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}

export interface PartitionReport {
  created: string[];
  dropped: string[];
  defaultRowsExpired: number;
  /** Rows of sealed months found in the default partition, moved to their sealed month. */
  movedToSealed?: number;
}

/**
 * One maintenance pass: partitions for last month to two months ahead, partitions for late
 * months that landed in the default partition, and retention by dropping whole months that
 * end before the cut-off (never a delete over the whole table).
 */
export async function maintainPartitions(client: pg.ClientBase, now: Date, retentionDays: number): Promise<PartitionReport> {
  const report: PartitionReport = { created: [], dropped: [], defaultRowsExpired: 0 };
  const months = new Set<number>();
  for (let i = -1; i <= 2; i++) months.add(addMonths(monthStart(now), i).getTime());
  const { rows: late } = await client.query<{ m: Date }>(`select distinct date_trunc('month', time, 'UTC') as m from observation_values_default`);
  for (const r of late) months.add(r.m.getTime());
  const cutoff = retentionDays > 0 ? new Date(now.getTime() - retentionDays * 86400_000) : null;
  const sealed = await sealedBefore(client);
  if (sealed && late.some((r) => r.m < sealed)) {
    const moved = await moveSealedDefaultRows(client);
    if (moved > 0) report.movedToSealed = moved;
  }
  for (const m of [...months].sort()) {
    if (sealed && m < sealed.getTime()) continue;
    // A month wholly before the cut-off would be created only to be dropped.
    if (cutoff && addMonths(new Date(m), 1) <= cutoff) continue;
    if (await ensureMonth(client, new Date(m))) report.created.push(partitionName(new Date(m)));
  }
  if (cutoff) {
    // Hot and sealed months alike.
    const { rows } = await client.query<{ relname: string }>(
      `select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent in ('observation_values'::regclass, 'observation_values_sealed'::regclass)`,
    );
    for (const { relname } of rows) {
      const m = PARTITION_RE.exec(relname) ?? SEALED_RE.exec(relname);
      if (!m) continue;
      const end = addMonths(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)), 1);
      if (end <= cutoff) {
        await client.query(`drop table ${relname}`);
        report.dropped.push(relname);
      }
    }
    // The default partitions only hold late rows of months without a partition.
    const res = await client.query(`delete from observation_values_default where time < $1`, [cutoff.toISOString()]);
    const sealedRes = await client.query(`delete from observation_values_sealed_default where time < $1`, [cutoff.toISOString()]);
    report.defaultRowsExpired = (res.rowCount ?? 0) + (sealedRes.rowCount ?? 0);
  }
  return report;
}
