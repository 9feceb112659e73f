/**
 * Streamed exports: a server-side cursor feeds the HTTP response a page at a time, waiting for
 * the socket to drain, so memory stays flat whatever the range (a year of every station is
 * tens of millions of rows). The response is chunked (no Content-Length); the client sees
 * progress as rows arrive, and `X-Vigie-Estimated-Rows` gives a total for progress bars
 * (from the daily rollups, without scanning raw rows; whole local days, so an estimate).
 */
import type { ServerResponse } from 'node:http';
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { METRICS, isMetricName, qualityFlags } from '../../schemas/index.ts';
import { estimateBuckets } from './buckets.ts';
import { bucketBounds, chooseSource, rollupRelation, seriesSql, type SeriesQuery } from './series.ts';

export type ExportFormat = 'csv' | 'ndjson';

export interface ExportRequest {
  format: ExportFormat;
  devices: string[];
  metrics: string[];
  channel?: string;
  from: Date;
  to: Date;
  /** Aggregated export when set (same buckets and sources as /api/v1/series). */
  series?: SeriesQuery;
}

const PAGE_ROWS = 2000;

/** RFC 4180: quote fields holding a comma, a quote or a line break; double inner quotes. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function estimateRows(pool: pg.Pool, timescale: boolean, r: ExportRequest): Promise<number> {
  if (r.series) {
    const range = await bucketBounds(pool, r.series);
    if (!range) return 0;
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from latest_observations where ($1::text[] = '{}' or device_id = any($1)) and ($2::text[] = '{}' or metric = any($2))`,
      [r.devices, r.metrics],
    );
    return rows[0]!.n * estimateBuckets(r.series.bucket, range.from, range.to);
  }
  const { rows } = await pool.query<{ n: number | null }>(
    // Daily rollups: a year of a whole département is ~10^5 rows to sum, not 10^6.
    `select sum(n)::float8 as n from ${rollupRelation('daily', timescale)}
      where bucket >= date_trunc('day', $1::timestamptz, 'Europe/Paris') and bucket < $2
        and ($3::text[] = '{}' or device_id = any($3)) and ($4::text[] = '{}' or metric = any($4))`,
    [r.from.toISOString(), r.to.toISOString(), r.devices, r.metrics],
  );
  return Math.round(rows[0]!.n ?? 0);
}

interface Statement {
  sql: string;
  params: unknown[];
  header: string[];
  line: (row: Record<string, unknown>, format: ExportFormat) => string;
}

async function statementFor(pool: pg.Pool, timescale: boolean, r: ExportRequest): Promise<Statement | null> {
  if (!r.series) {
    const params: unknown[] = [r.from.toISOString(), r.to.toISOString()];
    const where = ['time >= $1', 'time < $2'];
    if (r.devices.length) where.push(`device_id = any($${params.push(r.devices)})`);
    if (r.metrics.length) where.push(`metric = any($${params.push(r.metrics)})`);
    if (r.channel !== undefined) where.push(`channel = $${params.push(r.channel)}`);
    return {
      sql: `select time, device_id, metric, channel, value, quality, received_at from observations where ${where.join(' and ')} order by time, device_id, metric, channel`,
      params,
      header: ['time', 'device_id', 'metric', 'channel', 'value', 'unit', 'quality', 'received_at'],
      line: (row, format) => {
        const unit = isMetricName(row.metric as string) ? METRICS[row.metric as keyof typeof METRICS].unit : '';
        const time = (row.time as Date).toISOString();
        const received = (row.received_at as Date).toISOString();
        const quality = qualityFlags(row.quality as number);
        if (format === 'ndjson') {
          return `${JSON.stringify({ time, deviceId: row.device_id, metric: row.metric, channel: row.channel, value: row.value, unit, quality, receivedAt: received })}\n`;
        }
        return `${[time, row.device_id, row.metric, row.channel, row.value, unit, quality.join('|'), received].map(csvField).join(',')}\n`;
      },
    };
  }
  const q = r.series;
  // Streamed like raw rows: only the range's two ends are computed up front, never every bucket.
  const range = await bucketBounds(pool, q);
  if (!range) return null;
  const { sql, params } = seriesSql(timescale, q, chooseSource(q), range.from, range.to, 'order by 4, 1, 2, 3');
  return {
    sql,
    params,
    header: ['time', 'device_id', 'metric', 'channel', ...q.aggregates, 'unit'],
    line: (row, format) => {
      const unit = isMetricName(row.metric as string) ? METRICS[row.metric as keyof typeof METRICS].unit : '';
      const time = (row.b as Date).toISOString();
      const values = q.aggregates.map((a) => (row[a] === null ? null : Number(row[a])));
      if (format === 'ndjson') {
        const o: Record<string, unknown> = { time, deviceId: row.device_id, metric: row.metric, channel: row.channel };
        q.aggregates.forEach((a, i) => (o[a] = values[i]));
        o.unit = unit;
        return `${JSON.stringify(o)}\n`;
      }
      return `${[time, row.device_id, row.metric, row.channel, ...values, unit].map(csvField).join(',')}\n`;
    },
  };
}

/** Writes the export to `out`; resolves with the row count, or early if the client goes away. */
export async function streamExport(pool: pg.Pool, timescale: boolean, r: ExportRequest, out: ServerResponse): Promise<number> {
  const stmt = await statementFor(pool, timescale, r);
  if (r.format === 'csv') out.write(`${stmt ? stmt.header.join(',') : 'time'}\n`);
  if (!stmt) return 0;
  let closed = false;
  out.on('close', () => (closed = true));
  const client = await pool.connect();
  let count = 0;
  try {
    // A cursor needs a transaction to live across reads without holding the whole result.
    await client.query('begin read only');
    const cursor = client.query(new Cursor(stmt.sql, stmt.params));
    try {
      for (;;) {
        if (closed) break;
        const rows = await cursor.read(PAGE_ROWS);
        if (rows.length === 0) break;
        let chunk = '';
        for (const row of rows) chunk += stmt.line(row, r.format);
        count += rows.length;
        if (!out.write(chunk)) await new Promise<void>((resolve) => {
          const done = () => {
            out.off('drain', done);
            out.off('close', done);
            resolve();
          };
          out.on('drain', done);
          out.on('close', done);
        });
      }
    } finally {
      await cursor.close();
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  return count;
}
