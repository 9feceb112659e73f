/**
 * Background upkeep of the time-series storage, off the ingest path:
 * - plain PostgreSQL: drain rollup_dirty on a timer (VIGIE_ROLLUP_INTERVAL_MS), and hourly
 *   partition upkeep/retention, then sealing of the months that ended more than
 *   VIGIE_COMPRESS_AFTER_DAYS ago (services/timeseries/sealing.ts). Not after every commit: a busy hour is recomputed from its raw
 *   rows, so under sustained ingest one pass per tick coalesces hundreds of commits instead of
 *   rescanning the hour for each (the real-time views answer for what is not rolled up yet);

 * - TimescaleDB: policies run inside the database; late data older than the refresh window
 *   is re-materialized explicitly for the range it touched.
 * Errors are logged and retried on the next tick; nothing here can block a commit.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Batch } from '../../ingest/running-sink.ts';
import { maintainPartitions } from './partitions.ts';
import { sealMonths } from './sealing.ts';
import { refreshContinuousAggregates, refreshDirtyRollups } from './rollups.ts';

export interface MaintenanceOptions {
  pool: pg.Pool;
  logger: Logger;
  timescale: boolean;
  rollupIntervalMs: number;
  retentionDays: number;
  /** Plain PostgreSQL: months that ended more than this many days ago are sealed; 0 disables. */
  compressAfterDays?: number;
  rollupLateDays: number;
  partitionIntervalMs?: number;
}

export class StorageMaintenance {
  private timer: NodeJS.Timeout | null = null;
  private partitionTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** TimescaleDB: oldest/newest time of committed rows older than the refresh window. */
  private lateRange: { from: number; to: number } | null = null;

  constructor(private readonly o: MaintenanceOptions) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.o.rollupIntervalMs);
    this.timer.unref();
    if (!this.o.timescale) {
      this.partitionTimer = setInterval(() => void this.partitions(), this.o.partitionIntervalMs ?? 3_600_000);
      this.partitionTimer.unref();
    }
    this.kick();
  }

  /** Commit listener: never blocks, only schedules. */
  onCommitted(batch: Pick<Batch, 'observations'>): void {
    if (batch.observations.length === 0) return;
    if (this.o.timescale) {
      const limit = Date.now() - this.o.rollupLateDays * 86400_000;
      for (const o of batch.observations) {
        const t = o.time.getTime();
        if (t >= limit) continue;
        this.lateRange = this.lateRange ? { from: Math.min(this.lateRange.from, t), to: Math.max(this.lateRange.to, t) } : { from: t, to: t };
      }
      if (this.lateRange) this.kick();
    }
  }

  /** Runs a pass now, or once more after the current one. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err) => this.o.logger.warn({ err }, 'rollup maintenance failed; retrying on the next tick'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.partitionTimer) clearInterval(this.partitionTimer);
    await this.running;
  }

  private async pass(): Promise<void> {
    if (this.o.timescale) {
      const range = this.lateRange;
      this.lateRange = null;
      if (range) {
        const hour = 3600_000;
        try {
          await refreshContinuousAggregates(this.o.pool, new Date(Math.floor(range.from / hour) * hour), new Date(Math.floor(range.to / hour) * hour + hour));
        } catch (err) {
          // Kept for the next tick (a policy run refreshing an overlapping window makes
          // TimescaleDB refuse this one): late rows must reach the aggregates eventually.
          const now = this.lateRange as { from: number; to: number } | null;
          this.lateRange = now ? { from: Math.min(now.from, range.from), to: Math.max(now.to, range.to) } : range;
          throw err;
        }
      }
      return;
    }
    while (!this.stopped && (await refreshDirtyRollups(this.o.pool)) > 0);
  }

  async partitions(): Promise<void> {
    const client = await this.o.pool.connect();
    try {
      const report = await maintainPartitions(client, new Date(), this.o.retentionDays);
      if (report.created.length || report.dropped.length || report.defaultRowsExpired || report.movedToSealed) this.o.logger.info({ ...report }, 'observation partitions maintained');
      await sealMonths(this.o.pool, new Date(), this.o.compressAfterDays ?? 0, { logger: this.o.logger });
    } catch (err) {
      this.o.logger.warn({ err }, 'partition maintenance failed; retrying in an hour');
    } finally {
      client.release();
    }
  }
}
