/**
 * One commit of the ingest path: observations, latest values, dead letters and device
 * last-seen, in one transaction. Array parameters with `unnest` keep it one round trip per
 * table whatever the batch size; `on conflict do nothing` makes redelivery idempotent.
 */
import type pg from 'pg';
import { storable, storableTags } from './text.ts';
import { withTransaction } from './transaction.ts';
import type { Batch } from '../../ingest/running-sink.ts';

export async function writeBatch(pool: pg.Pool, batch: Batch): Promise<void> {
  await withTransaction(pool, async (client) => {
    if (batch.observations.length > 0) await insertObservations(client, batch);
    if (batch.deadLetters.length > 0) await insertDeadLetters(client, batch);
    if (batch.devicesSeen.size > 0) await touchDevices(client, batch);
    if (batch.deviceInfo?.length) await describeDevices(client, batch.deviceInfo);
    if (batch.deviceStatus?.length) await setDeviceStatus(client, batch.deviceStatus);
  });
}

async function insertObservations(client: pg.PoolClient, batch: Batch): Promise<void> {
  const n = batch.observations.length;
  const device = new Array<string>(n);
  const metric = new Array<string>(n);
  const channel = new Array<string>(n);
  const time = new Array<string>(n);
  const received = new Array<string>(n);
  const value = new Array<number>(n);
  const quality = new Array<number>(n);
  batch.observations.forEach((o, i) => {
    device[i] = o.deviceId;
    metric[i] = o.metric;
    channel[i] = o.channel;
    time[i] = o.time.toISOString();
    received[i] = o.receivedAt.toISOString();
    value[i] = o.value;
    quality[i] = o.quality;
  });
  const params = [device, metric, channel, time, received, value, quality];
  // Rows in key order: concurrent commits (VIGIE_CONCURRENT_COMMITS) that meet on the same
  // keys, as a redelivery can, then lock them in the same order and wait rather than deadlock.
  await client.query(
    `insert into observations (device_id, metric, channel, time, received_at, value, quality)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::float8[], $7::int2[]) as u(d, m, c, t, r, v, q)
      order by d, m, c, t
     on conflict do nothing`,
    params,
  );
  // Newest per series wins; a late (older) observation never replaces a newer latest value.
  await client.query(
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
