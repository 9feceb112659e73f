/** Reading dead letters back, newest first, with an id cursor. */
import type pg from 'pg';

export interface DeadLetterItem {
  id: number;
  receivedAt: string;
  firstReceived: string;
  occurrences: number;
  topic: string;
  decoder: string | null;
  deviceId: string | null;
  code: string;
  reason: string;
  field: string | null;
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
  payloadSize: number;
  truncated: boolean;
  /** Set once a replay stored the message; a replayed dead letter is never replayed again. */
  replayedAt: string | null;
  replayAttempts: number;
}

export interface DeadLetterQuery {
  from?: Date;
  to?: Date;
  topic?: string;
  device?: string;
  /** Only these devices (domain scoping); dead letters without a device are left out. */
  devices?: string[];
  decoder?: string;
  code?: string;
  /** Case-insensitive substring of the reason. */
  reason?: string;
  /** open: not replayed yet; replayed: stored by a replay; all (default). */
  status?: 'open' | 'replayed' | 'all';
  before?: number;
  limit: number;
}

/** Payload bytes as text when they are valid UTF-8, else base64: kept faithfully either way. */
function payloadText(buf: Buffer): { payload: string; payloadEncoding: 'utf8' | 'base64' } {
  const text = buf.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buf) ? { payload: text, payloadEncoding: 'utf8' } : { payload: buf.toString('base64'), payloadEncoding: 'base64' };
}

/** The where clause of a dead-letter selection (listing and replay share it). */
export function deadLetterWhere(q: Omit<DeadLetterQuery, 'limit'>, params: unknown[]): string[] {
  const where: string[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.from) where.push(`received_at >= ${p(q.from.toISOString())}`);
  if (q.to) where.push(`received_at < ${p(q.to.toISOString())}`);
  if (q.topic) where.push(`topic = ${p(q.topic)}`);
  if (q.device) where.push(`device_id = ${p(q.device)}`);
  // Domain scoping: a dead letter without a device matches no list (services/auth/scope.ts).
  if (q.devices) where.push(`device_id = any(${p(q.devices)}::text[])`);
  if (q.decoder) where.push(`decoder = ${p(q.decoder)}`);
  if (q.code) where.push(`code = ${p(q.code)}`);
  if (q.reason) where.push(`reason ilike ${p(`%${q.reason.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
  if (q.status === 'open') where.push('replayed_at is null');
  if (q.status === 'replayed') where.push('replayed_at is not null');
  if (q.before !== undefined) where.push(`id < ${p(q.before)}`);
  return where;
}

export async function queryDeadLetters(pool: pg.Pool, q: DeadLetterQuery): Promise<{ items: DeadLetterItem[]; nextCursor: string | null }> {
  const params: unknown[] = [];
  const where = deadLetterWhere(q, params);
  params.push(q.limit + 1);
  const { rows } = await pool.query(
    `select id, first_received, received_at, occurrences, topic, decoder, device_id, code, reason, field, payload, payload_size, replayed_at, replay_attempts
       from dead_letters ${where.length ? `where ${where.join(' and ')}` : ''}
      order by id desc limit $${params.length}`,
    params,
  );
  const items: DeadLetterItem[] = rows.slice(0, q.limit).map((r) => ({
    id: r.id,
    receivedAt: r.received_at.toISOString(),
    firstReceived: r.first_received.toISOString(),
    occurrences: r.occurrences,
    topic: r.topic,
    decoder: r.decoder,
    deviceId: r.device_id,
    code: r.code,
    reason: r.reason,
    field: r.field === '' ? null : r.field,
    ...payloadText(r.payload),
    payloadSize: r.payload_size,
    truncated: r.payload.length < r.payload_size,
    replayedAt: r.replayed_at ? r.replayed_at.toISOString() : null,
    replayAttempts: r.replay_attempts,
  }));
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > q.limit && last ? String(last.id) : null };
}
