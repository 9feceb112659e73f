/**
 * A durable reader of the commit feed (commit_log) for a singleton role: it resumes from its
 * stored position (commit_consumers), is woken by NOTIFY on each commit (with a polling
 * fallback for a notification lost while the LISTEN connection was down), and hands entries
 * to its handler in order. The handler advances the position itself, in the same transaction
 * as its effects when it has any (alerting), or after its write (InfluxDB mirror, whose points
 * are idempotent). `claim` bumps the epoch that fences writes of a previous holder.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { PgBus } from './bus.ts';
import { readCommitLog, type CommitEntry } from './commit-log.ts';
import { CHANNEL } from './keys.ts';

export interface Position {
  name: string;
  seq: number;
  epoch: number;
}

/** Another process advanced or claimed this consumer: this one is no longer the holder. */
export class FencedError extends Error {
  readonly code = 'VIGIE_ERR_FENCED';
}

/** Takes the consumer over (creating it at the start of the feed) and returns its position. */
export async function claimPosition(db: pg.Pool, name: string): Promise<Position> {
  const { rows } = await db.query<{ seq: number; epoch: number }>(
    `insert into commit_consumers (name, seq, epoch) values ($1, 0, 1)
     on conflict (name) do update set epoch = commit_consumers.epoch + 1, updated_at = now()
     returning seq, epoch`,
    [name],
  );
  return { name, seq: Number(rows[0]!.seq), epoch: Number(rows[0]!.epoch) };
}

/** Moves the position to `seq` if this holder's epoch is still current; throws FencedError otherwise. */
export async function advancePosition(db: pg.Pool | pg.PoolClient, p: Position, seq: number): Promise<void> {
  const res = await db.query(`update commit_consumers set seq = greatest(seq, $3), updated_at = now() where name = $1 and epoch = $2`, [p.name, p.epoch, seq]);
  if (res.rowCount !== 1) throw new FencedError(`commit feed consumer ${p.name}: another process took it over (epoch ${p.epoch} is stale)`);
}

export interface FeedConsumerOptions {
  pool: pg.Pool;
  bus: PgBus;
  logger: Logger;
  position: Position;
  /** Entries read per step, and observations per step (a burst is evaluated in bounded steps). */
  maxEntries: number;
  maxObservations: number;
  pollMs: number;
  /** Processes entries in order; on success the position must be at the last entry's seq. */
  handle(entries: CommitEntry[], position: Position): Promise<void>;
}

export class FeedConsumer {
  private running = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> = Promise.resolve();
  private unsubscribe: Array<() => void> = [];
  private poll: NodeJS.Timeout | null = null;
  private pending = true;
  /** Seq of the newest entry this consumer knows was committed (from NOTIFY payloads). */
  private known = 0;

  constructor(private readonly o: FeedConsumerOptions) {}

  get position(): Position {
    return this.o.position;
  }

  async start(): Promise<void> {
    this.running = true;
    this.unsubscribe.push(
      await this.o.bus.on(CHANNEL.commit, (payload) => {
        this.known = Math.max(this.known, Number(payload) || 0);
        this.kick();
      }),
    );
    this.unsubscribe.push(this.o.bus.onReconnect(() => this.kick()));
    this.poll = setInterval(() => this.kick(), this.o.pollMs);
    this.poll.unref();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.unsubscribe) u();
    if (this.poll) clearInterval(this.poll);
    this.kick();
    await this.loop;
  }

  /** Resolves once every entry committed before the call has been handled. */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    const { rows } = await this.o.pool.query<{ seq: number | null }>('select max(seq) as seq from commit_log');
    const target = Number(rows[0]?.seq ?? 0);
    const deadline = Date.now() + timeoutMs;
    while (this.o.position.seq < target) {
      if (!this.running || Date.now() > deadline) throw new Error(`commit feed consumer ${this.o.position.name} at ${this.o.position.seq}, not at ${target}`);
      this.kick();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private kick(): void {
    this.pending = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      if (!this.pending) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      this.pending = false;
      try {
        const entries = await readCommitLog(this.o.pool, this.o.position.seq, this.o.maxEntries, this.o.maxObservations);
        if (entries.length === 0) continue;
        await this.o.handle(entries, this.o.position);
        this.o.position.seq = entries[entries.length - 1]!.seq;
        failures = 0;
        this.pending = true; // there may be more
      } catch (err) {
        if (err instanceof FencedError) {
          this.o.logger.error({ err }, 'commit feed consumer fenced off: stopping');
          this.running = false;
          return;
        }
        failures += 1;
        const waitMs = Math.min(5000, 100 * 2 ** Math.min(failures, 6));
        this.o.logger.warn({ err, consumer: this.o.position.name, retryInMs: waitMs }, 'commit feed step failed; retrying');
        await new Promise((r) => setTimeout(r, waitMs));
        this.pending = true;
      }
    }
  }
}
