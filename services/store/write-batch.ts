/**
 * One commit of the ingest path: observations (with the batch's receive time and stale rollup
 * hours), latest values, dead letters and device last-seen, in one transaction. Array parameters with `unnest` keep it one
 * round trip per table whatever the batch size; `on conflict do nothing` makes redelivery
 * idempotent. Observation rows are narrow (services/store/migrations/once/050_narrow_observations.sql):
 * series ids are resolved before the transaction (services/store/series-ids.ts). On plain
 * PostgreSQL, rows of sealed months (services/timeseries/sealing.ts) go to
 * observation_values_sealed, kept idempotent by advisory locks instead of a unique key.
 */
import type pg from 'pg';
import { storable, storableTags } from './text.ts';
import { withTransaction } from './transaction.ts';
import { appendCommitLog } from '../cluster/commit-log.ts';
import { isoArray, numberArray } from './array-literal.ts';
import { SeriesIds } from './series-ids.ts';
import { LOCK_CLASS, SEAL_LOCK, SEALED_SERIES_CLASS } from '../cluster/keys.ts';
import type { Batch } from '../../ingest/running-sink.ts';

interface StoreState {
  series: SeriesIds;
  /** Plain PostgreSQL: the batch marks its hours stale; TimescaleDB: continuous aggregates. */
  marksRollups: Promise<boolean>;
}

const states = new WeakMap<pg.Pool, StoreState>();

function stateFor(pool: pg.Pool): StoreState {
  let s = states.get(pool);
  if (!s) {
    const marksRollups = pool.query(`select to_regclass('cagg_series_hourly') is null as plain`).then((r) => r.rows[0].plain as boolean);
    marksRollups.catch(() => states.delete(pool));
    states.set(pool, (s = { series: new SeriesIds(), marksRollups }));
  }
  return s;
}

export async function writeBatch(pool: pg.Pool, batch: Batch): Promise<void> {
  const rows = batch.observations.length > 0 ? await narrowRows(pool, batch) : null;
  await withTransaction(pool, async (client) => {
    if (rows) await insertObservations(client, rows);
    if (batch.deadLetters.length > 0) await insertDeadLetters(client, batch);
    if (batch.devicesSeen.size > 0) await touchDevices(client, batch);
    if (batch.deviceInfo?.length) await describeDevices(client, batch.deviceInfo);
    if (batch.deviceStatus?.length) await setDeviceStatus(client, batch.deviceStatus);
    // Last: the durable commit feed (alerting, mirrors, live streams of every process).
    await appendCommitLog(client, batch.observations);
  });
}

interface NarrowRows {
  series: number[];
  time: string[];
  /** `time` in epoch milliseconds. */
  millis: number[];
  value: number[];
  quality: number[];
  receivedAt: string;
  /** Newest row index per series (latest values). */
  newest: Map<number, number>;
  /** Stale hours to mark, each with the earliest time the batch brings to it; null with TimescaleDB. */
  hours: { series: number[]; hour: string[]; from: string[] } | null;
}

async function narrowRows(pool: pg.Pool, batch: Batch): Promise<NarrowRows> {
  const state = stateFor(pool);
  const obs = batch.observations;
  const series = await state.series.idsOf(pool, obs);
  const n = obs.length;
  const time = new Array<string>(n);
  const millis = new Array<number>(n);
  const value = new Array<number>(n);
  const quality = new Array<number>(n);
  const newest = new Map<number, number>();
  let received = 0;
  const marks = await state.marksRollups;
  // series id -> UTC hour number -> earliest observation time of the batch in that hour.
  const hourMarks = marks ? new Map<number, Map<number, number>>() : null;
  for (let i = 0; i < n; i++) {
    const o = obs[i]!;
    const id = series[i]!;
    const t = o.time.getTime();
    time[i] = o.time.toISOString();
    millis[i] = t;
    value[i] = o.value;
    quality[i] = o.quality;
    const prev = newest.get(id);
    if (prev === undefined || obs[prev]!.time.getTime() <= t) newest.set(id, i);
    if (o.receivedAt.getTime() > received) received = o.receivedAt.getTime();
    if (hourMarks) {
      const hour = Math.floor(t / 3_600_000);
      let hours = hourMarks.get(id);
      if (!hours) hourMarks.set(id, (hours = new Map()));
      const from = hours.get(hour);
      if (from === undefined || t < from) hours.set(hour, t);
    }
  }
  let hours: NarrowRows['hours'] = null;
  if (hourMarks) {
    hours = { series: [], hour: [], from: [] };
    for (const id of [...hourMarks.keys()].sort((a, b) => a - b)) {
      const byHour = hourMarks.get(id)!;
      for (const hour of [...byHour.keys()].sort((a, b) => a - b)) {
        hours.series.push(id);
        hours.hour.push(new Date(hour * 3_600_000).toISOString());
        hours.from.push(new Date(byHour.get(hour)!).toISOString());
      }
    }
  }
  return { series, time, millis, value, quality, receivedAt: new Date(received).toISOString(), newest, hours };
}

async function insertObservations(client: pg.PoolClient, r: NarrowRows): Promise<void> {
  // Plain PostgreSQL: rows older than sealed_before belong to a sealed month (no unique key
  // there). The shared lock keeps sealing (which takes it exclusively) from moving the boundary
  // while this transaction writes; it is one round trip, in memory.
  let late: number[] = [];
  if (r.hours) {
    const { rows } = await client.query<{ ms: number }>(
      `select pg_advisory_xact_lock_shared($1, $2), (extract(epoch from sealed_before) * 1000)::float8 as ms from observation_seal`,
      [LOCK_CLASS, SEAL_LOCK],
    );
    const sealedBefore = rows[0]?.ms ?? -Infinity;
    if (sealedBefore > -Infinity) late = r.millis.flatMap((t, i) => (t < sealedBefore ? [i] : []));
  }
  const hot = late.length === 0 ? r : pick(r, complement(late, r.series.length));
  // Rows in key order: concurrent commits (VIGIE_CONCURRENT_COMMITS) that meet on the same
  // keys, as a redelivery can, then lock them in the same order and wait rather than deadlock.
  // The batch's receive time is the newest of its messages (one ingest_batches row per commit),
  // and the row lists the hours it made stale for the plain-PostgreSQL rollup worker (the
  // hours of every row of the batch, sealed or not), with the earliest time it brought to each
  // (the worker then merges only what follows the rollup).
  const { rows: batchRows } = await client.query<{ id: number }>(
    `with b as (insert into ingest_batches (received_at, stale_series, stale_hours, stale_from) values ($5, $6, $7, $8) returning id),
     ins as (
       insert into observation_values (time, value, series_id, batch_id, quality)
       select t, v, s, (select id from b), nullif(q, 0)
         from unnest($1::int4[], $2::timestamptz[], $3::float8[], $4::int2[]) as u(s, t, v, q)
        order by s, t
       on conflict do nothing)
     select id from b`,
    [
      numberArray(hot.series),
      isoArray(hot.time),
      numberArray(hot.value),
      numberArray(hot.quality),
      r.receivedAt,
      r.hours ? numberArray(r.hours.series) : null,
      r.hours ? isoArray(r.hours.hour) : null,
      r.hours ? isoArray(r.hours.from) : null,
    ],
  );
  if (late.length > 0) await insertSealed(client, pick(r, late), batchRows[0]!.id);
  // Newest per series wins; a late (older) observation never replaces a newer latest value.
  const latest = [...r.newest.entries()].sort((a, b) => a[0] - b[0]);
  await client.query(
    `insert into latest_values (series_id, time, received_at, value, quality)
     select s, t, $5, v, q from unnest($1::int4[], $2::timestamptz[], $3::float8[], $4::int2[]) as u(s, t, v, q)
     on conflict (series_id) do update
       set time = excluded.time, received_at = excluded.received_at, value = excluded.value, quality = excluded.quality
       where excluded.time >= latest_values.time`,
    [
      numberArray(latest.map((l) => l[0])),
      isoArray(latest.map((l) => r.time[l[1]]!)),
      numberArray(latest.map((l) => r.value[l[1]]!)),
      numberArray(latest.map((l) => r.quality[l[1]]!)),
      r.receivedAt,
    ],
  );
}

type Columns = Pick<NarrowRows, 'series' | 'time' | 'value' | 'quality'>;

function pick(r: Columns, idx: number[]): Columns {
  return { series: idx.map((i) => r.series[i]!), time: idx.map((i) => r.time[i]!), value: idx.map((i) => r.value[i]!), quality: idx.map((i) => r.quality[i]!) };
}

function complement(idx: number[], n: number): number[] {
  const skip = new Set(idx);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!skip.has(i)) out.push(i);
  return out;
}

/**
 * Late rows for sealed months (rare): observation_values_sealed has no unique key, so each
 * series is locked first, in ascending order (two commits bringing the same late key wait for
 * each other instead of deadlocking); the insert that follows is a new statement whose snapshot
 * sees what the other committed, and skips keys already stored. Duplicates inside the batch
 * are dropped first.
 */
export async function insertSealed(client: pg.ClientBase, rows: Columns, batchId: number): Promise<void> {
  await client.query(
    `select pg_advisory_xact_lock($1, s) from (select distinct s from unnest($2::int4[]) as u(s) order by s) k`,
    [SEALED_SERIES_CLASS, rows.series],
  );
  await client.query(
    `insert into observation_values_sealed (time, value, series_id, batch_id, quality)
     select t, v, s, $5, nullif(q, 0)
       from (select distinct on (s, t) s, t, v, q from unnest($1::int4[], $2::timestamptz[], $3::float8[], $4::int2[]) as u(s, t, v, q) order by s, t) u
      where not exists (select 1 from observation_values_sealed x where x.series_id = u.s and x.time = u.t)`,
    [rows.series, rows.time, rows.value, rows.quality, batchId],
  );
}

async function insertDeadLetters(client: pg.PoolClient, batch: Batch): Promise<void> {
  // Fold identical rejections inside the batch first: one statement may not update a row twice.
  // The identity hashes the whole payload, not the kept (truncated) part.
  const folded = new Map<string, { row: Batch['deadLetters'][number]; sha: Buffer; count: number }>();
  for (const dl of batch.deadLetters) {
    const row = { ...dl, topic: storable(dl.topic), decoder: storable(dl.decoder), deviceId: storable(dl.deviceId), reason: storable(dl.reason), field: storable(dl.field) };
    const sha = row.payloadSha256;
    const key = `${sha.toString('hex')}|${row.topic}|${row.code}|${row.field ?? ''}`;
    const entry = folded.get(key);
    if (entry) {
      entry.count += 1;
      if (row.receivedAt > entry.row.receivedAt) entry.row = row;
    } else folded.set(key, { row, sha, count: 1 });
  }
  const entries = [...folded.values()];
  await client.query(
    `insert into dead_letters (first_received, received_at, occurrences, topic, decoder, device_id, code, reason, field, payload, payload_size, payload_sha256)
     select r, r, n, tp, dc, dv, cd, rs, f, p, ps, h
       from unnest($1::timestamptz[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[], $10::int[], $11::bytea[])
         as u(r, n, tp, dc, dv, cd, rs, f, p, ps, h)
     on conflict on constraint dead_letters_identity do update
       set occurrences = dead_letters.occurrences + excluded.occurrences,
           received_at = greatest(dead_letters.received_at, excluded.received_at)`,
    [
      entries.map((e) => e.row.receivedAt.toISOString()),
      entries.map((e) => e.count),
      entries.map((e) => e.row.topic),
      entries.map((e) => e.row.decoder),
      entries.map((e) => e.row.deviceId),
      entries.map((e) => e.row.code),
      entries.map((e) => e.row.reason),
      entries.map((e) => e.row.field ?? ''),
      entries.map((e) => e.row.payload),
      entries.map((e) => e.row.payloadSize),
      entries.map((e) => e.sha),
    ],
  );
}

async function touchDevices(client: pg.PoolClient, batch: Batch): Promise<void> {
  const ids = [...batch.devicesSeen.keys()].sort();
  const seen = ids.map((id) => batch.devicesSeen.get(id)!.toISOString());
  // Sorted ids: concurrent ingest processes lock device rows in the same order (no deadlock).
  await client.query(
    `insert into devices (id, registered, first_seen, last_seen)
     select id, false, t, t from unnest($1::text[], $2::timestamptz[]) as u(id, t) order by id
     on conflict (id) do update
       set last_seen = greatest(devices.last_seen, excluded.last_seen),
           first_seen = coalesce(devices.first_seen, excluded.first_seen)`,
    [ids, seen],
  );
}

/**
 * What the wire format says about unregistered devices (ChirpStack name and tags): the
 * registry file stays authoritative for registered ones.
 */
async function describeDevices(client: pg.PoolClient, info: NonNullable<Batch['deviceInfo']>): Promise<void> {
  const last = new Map(info.map((i) => [i.deviceId, i]));
  const ids = [...last.keys()].sort();
  await client.query(
    `insert into devices (id, registered, name, tags)
     select id, false, name, tags from unnest($1::text[], $2::text[], $3::jsonb[]) as u(id, name, tags) order by id
     on conflict (id) do update
       set name = coalesce(excluded.name, devices.name), tags = devices.tags || excluded.tags, updated_at = now()
       where not devices.registered`,
    [ids, ids.map((id) => storable(last.get(id)!.name ?? null)), ids.map((id) => JSON.stringify(storableTags(last.get(id)!.tags)))],
  );
}

/** Online/offline from BIRTH/DEATH; an older change never overwrites a newer one. */
async function setDeviceStatus(client: pg.PoolClient, changes: NonNullable<Batch['deviceStatus']>): Promise<void> {
  const last = new Map<string, (typeof changes)[number]>();
  for (const c of changes) {
    const prev = last.get(c.deviceId);
    if (!prev || prev.at <= c.at) last.set(c.deviceId, c);
  }
  const ids = [...last.keys()].sort();
  await client.query(
    `insert into devices (id, registered, online, status_changed_at, status_reason)
     select id, false, o, t, r from unnest($1::text[], $2::bool[], $3::timestamptz[], $4::text[]) as u(id, o, t, r) order by id
     on conflict (id) do update
       set online = excluded.online, status_changed_at = excluded.status_changed_at, status_reason = excluded.status_reason
       where devices.status_changed_at is null or devices.status_changed_at <= excluded.status_changed_at`,
    [ids, ids.map((id) => last.get(id)!.online), ids.map((id) => last.get(id)!.at.toISOString()), ids.map((id) => storable(last.get(id)!.reason))],
  );
}
