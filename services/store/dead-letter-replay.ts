/** SQL of the dead-letter replay: select, mark stored, record a failed attempt. */
import type pg from 'pg';
import { deadLetterWhere, type DeadLetterQuery } from './dead-letters.ts';

export interface ReplayRow {
  id: number;
  firstReceived: Date;
  topic: string;
  code: string;
  field: string;
  payload: Buffer;
  payloadSize: number;
  sha: string;
}

/** Lock key for "a replay is running" (pg_advisory_lock), so two replays never interleave. */
export const REPLAY_LOCK_KEY = 0x56524550; // "VREP"

export async function selectForReplay(client: pg.PoolClient, q: { ids?: number[]; filter: Omit<DeadLetterQuery, 'limit' | 'before' | 'status'>; limit: number }): Promise<ReplayRow[]> {
  const params: unknown[] = [];
  const where = deadLetterWhere(q.filter, params);
  where.push('replayed_at is null');
  if (q.ids) {
    params.push(q.ids);
    where.push(`id = any($${params.length}::bigint[])`);
  }
  params.push(q.limit);
  const { rows } = await client.query(
    `select id, first_received, topic, code, field, payload, payload_size, encode(payload_sha256, 'hex') as sha
       from dead_letters where ${where.join(' and ')} order by id limit $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    firstReceived: r.first_received,
    topic: r.topic,
    code: r.code,
    field: r.field,
    payload: r.payload,
    payloadSize: r.payload_size,
    sha: r.sha,
  }));
}

export async function markReplayed(client: pg.PoolClient, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await client.query(`update dead_letters set replayed_at = now(), replay_attempts = replay_attempts + 1 where id = any($1::bigint[])`, [ids]);
}

export async function markFailedAgain(client: pg.PoolClient, failures: Array<{ id: number; reason: string }>): Promise<void> {
  if (failures.length === 0) return;
  await client.query(
    `update dead_letters d set replay_attempts = d.replay_attempts + 1, reason = u.reason
       from unnest($1::bigint[], $2::text[]) as u(id, reason) where d.id = u.id`,
    [failures.map((f) => f.id), failures.map((f) => f.reason)],
  );
}
