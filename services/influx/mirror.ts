/**
 * The InfluxDB mirror: committed batches in, line protocol out, never in the way of the SQL
 * store. It follows the running sink's ideas (batches cut by size or age, one write at a time
 * in order, retry with exponential backoff and jitter) with one difference that matters: the
 * primary store has already committed, so nothing waits on the mirror. Its buffer is bounded
 * (`maxBuffer` points, the batch being retried included); when InfluxDB is down long enough to
 * fill it, the oldest waiting points are dropped, counted (`vigie_influx_points_dropped_total`)
 * and logged once per outage. The batch in flight is retried until it is written.
 */
import pRetry from 'p-retry';
import { InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import client from 'prom-client';

export interface MirrorOptions {
  url: string;
  org: string;
  bucket: string;
  token?: string;
  batchSize: number;
  flushMs: number;
  maxBuffer: number;
  timeoutMs: number;
  retryMinMs: number;
  retryMaxMs: number;
  logger: Logger;
  registry: client.Registry;
}

export class InfluxMirror {
  private buffer: string[] = [];
  private head = 0;
  /** The batch being written or retried, out of the buffer. */
  private inflight: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private stopped = false;
  private failing = false;
  private droppedThisOutage = 0;
  private readonly api: WriteApi;
  private readonly abort = new AbortController();
  readonly written: client.Counter;
  readonly dropped: client.Counter;
  readonly failures: client.Counter;
  readonly buffered: client.Gauge;

  constructor(private readonly o: MirrorOptions) {
    // The client library logs to the console by default; Vigie logs through pino.
    setLogger({ error: (msg, err) => o.logger.debug({ err }, msg), warn: (msg, err) => o.logger.debug({ err }, msg) });
    // Retries are ours (bounded buffer, metrics); the client sends each batch once.
    this.api = new InfluxDB({ url: o.url, token: o.token, timeout: o.timeoutMs }).getWriteApi(o.org, o.bucket, 'ns', {
      // One of our batches never fills the client's own batch, so only flush() sends it.
      batchSize: o.batchSize + 1,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: o.batchSize + 1,
      writeFailed: () => {},
    });
    const reg = [o.registry];
    this.written = new client.Counter({ name: 'vigie_influx_points_written_total', help: 'Points written to the InfluxDB mirror', registers: reg });
    this.dropped = new client.Counter({ name: 'vigie_influx_points_dropped_total', help: 'Points the InfluxDB mirror dropped (buffer full during an outage, or unsent at shutdown)', registers: reg });
    this.failures = new client.Counter({ name: 'vigie_influx_write_failures_total', help: 'Failed InfluxDB write attempts (retried)', registers: reg });
    this.buffered = new client.Gauge({ name: 'vigie_influx_buffer_points', help: 'Points waiting for the InfluxDB mirror', registers: reg, collect: () => this.buffered.set(this.size) });
  }

  /** Points held: waiting plus in flight. */
  get size(): number {
    return this.waiting + this.inflight.length;
  }

  private get waiting(): number {
    return this.buffer.length - this.head;
  }

  /** Commit listener side: O(points), never waits. */
  push(lines: string[]): void {
    if (this.stopped || lines.length === 0) return;
    for (const l of lines) this.buffer.push(l);
    const over = Math.min(this.waiting, this.size - this.o.maxBuffer);
    if (over > 0) {
      this.head += over;
      this.dropped.inc(over);
      if (this.droppedThisOutage === 0) this.o.logger.warn({ maxBuffer: this.o.maxBuffer }, 'InfluxDB mirror buffer full: dropping the oldest points until InfluxDB accepts writes again');
      this.droppedThisOutage += over;
    }
    this.compact();
    if (this.waiting >= this.o.batchSize) this.kick();
    else if (!this.timer) this.timer = setTimeout(() => this.kick(), this.o.flushMs);
  }

  private compact(): void {
    if (this.head > 10_000 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing || this.size === 0) return;
    this.writing = this.drain().finally(() => {
      this.writing = null;
      if (this.size > 0 && !this.stopped) {
        if (this.waiting >= this.o.batchSize) this.kick();
        else if (!this.timer) this.timer = setTimeout(() => this.kick(), this.o.flushMs);
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.size > 0 && !this.abort.signal.aborted) {
      if (this.inflight.length === 0) {
        const take = Math.min(this.waiting, this.o.batchSize, this.o.maxBuffer);
        this.inflight = this.buffer.slice(this.head, this.head + take);
        this.head += take;
        this.compact();
      }
      try {
        // The same backoff as the SQL store's running sink (p-retry), until stop() aborts it.
        await pRetry(
          async () => {
            this.api.writeRecords(this.inflight);
            await this.api.flush();
          },
          {
            retries: Number.POSITIVE_INFINITY,
            minTimeout: this.o.retryMinMs,
            maxTimeout: this.o.retryMaxMs,
            randomize: true,
            signal: this.abort.signal,
            onFailedAttempt: ({ error }) => {
              this.failures.inc();
              if (!this.failing) this.o.logger.warn({ err: { message: error.message }, buffered: this.size }, 'InfluxDB mirror write failed; retrying with backoff (the SQL store is not affected)');
              this.failing = true;
            },
          },
        );
      } catch {
        return; // stop() aborted the retries; stop() counts what is left as dropped
      }
      this.written.inc(this.inflight.length);
      this.inflight = [];
      if (this.failing) {
        this.o.logger.info({ dropped: this.droppedThisOutage }, 'InfluxDB mirror writes again');
        this.failing = false;
        this.droppedThisOutage = 0;
      }
      if (this.waiting < this.o.batchSize) break;
    }
  }

  /** Flushes what it can within `timeoutMs`, then counts the rest as dropped. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    const flushAll = (async () => {
      while (this.size > 0 && !this.abort.signal.aborted) {
        this.kick();
        await this.writing;
      }
    })();
    await Promise.race([flushAll, deadline]);
    this.stopped = true;
    this.abort.abort();
    await this.writing;
    if (this.size > 0) {
      this.dropped.inc(this.size);
      this.o.logger.warn({ points: this.size }, 'InfluxDB mirror stopped with unsent points (dropped)');
      this.head = this.buffer.length;
      this.inflight = [];
    }
    await this.api.close().catch(() => {});
  }
}
