/** Reading observations back: latest values and time-ordered raw pages with a cursor. */
import type pg from 'pg';
import { METRICS, isMetricName, qualityFlags } from '../../schemas/index.ts';

export interface ObservationItem {
  time: string;
  deviceId: string;
  metric: string;
  channel: string;
  value: number;
  unit: string;
  quality: string[];
  receivedAt: string;
}

function toItem(r: { time: Date; device_id: string; metric: string; channel: string; value: number; quality: number; received_at: Date }): ObservationItem {
  return {
    time: r.time.toISOString(),
    deviceId: r.device_id,
    metric: r.metric,
    channel: r.channel,
    value: r.value,
    unit: isMetricName(r.metric) ? METRICS[r.metric].unit : '',
    quality: qualityFlags(r.quality),
    receivedAt: r.received_at.toISOString(),
  };
}

export async function latestForDevice(pool: pg.Pool, deviceId: string): Promise<ObservationItem[]> {
  const { rows } = await pool.query(
    `select device_id, metric, channel, time, received_at, value, quality
       from latest_observations where device_id = $1 order by metric, channel`,
    [deviceId],
  );
  return rows.map(toItem);
}

export interface ObservationQuery {
  devices?: string[];
  metrics?: string[];
  channel?: string;
  from?: Date;
  to?: Date;
  limit: number;
  cursor?: ObservationCursor;
  order: 'asc' | 'desc';
}

/** Position after the last item of a page: (time, device, metric, channel) is unique. */
export interface ObservationCursor {
  time: string;
  deviceId: string;
  metric: string;
  channel: string;
}

export function encodeCursor(c: ObservationCursor): string {
  return Buffer.from(JSON.stringify([c.time, c.deviceId, c.metric, c.channel])).toString('base64url');
}

export function decodeCursor(text: string): ObservationCursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    // A forged cursor must fail here, not in PostgreSQL: short strings, no NUL, a storable time.
    if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => typeof x === 'string' && x.length <= 256 && !x.includes('\u0000'))) return null;
    const [time, deviceId, metric, channel] = v as string[];
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(time!) || time!.startsWith('0000') || Number.isNaN(Date.parse(time!))) return null;
    return { time: time!, deviceId: deviceId!, metric: metric!, channel: channel! };
  } catch {
    return null;
  }
}

export async function queryObservations(pool: pg.Pool, q: ObservationQuery): Promise<{ items: ObservationItem[]; nextCursor: string | null }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.devices?.length) where.push(`device_id = any(${p(q.devices)}::text[])`);
  if (q.metrics?.length) where.push(`metric = any(${p(q.metrics)}::text[])`);
  if (q.channel !== undefined) where.push(`channel = ${p(q.channel)}`);
  if (q.from) where.push(`time >= ${p(q.from.toISOString())}`);
  if (q.to) where.push(`time < ${p(q.to.toISOString())}`);
  const cmp = q.order === 'asc' ? '>' : '<';
  if (q.cursor) {
    const c = q.cursor;
    where.push(`(time, device_id, metric, channel) ${cmp} (${p(c.time)}::timestamptz, ${p(c.deviceId)}, ${p(c.metric)}, ${p(c.channel)})`);
  }
  const dir = q.order === 'asc' ? 'asc' : 'desc';
  const { rows } = await pool.query(
    `select device_id, metric, channel, time, received_at, value, quality from observations
      ${where.length ? `where ${where.join(' and ')}` : ''}
      order by time ${dir}, device_id ${dir}, metric ${dir}, channel ${dir}
      limit ${p(q.limit + 1)}`,
    params,
  );
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map(toItem);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: more && last ? encodeCursor({ time: last.time, deviceId: last.deviceId, metric: last.metric, channel: last.channel }) : null,
  };
}
