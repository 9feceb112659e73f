/**
 * Fans a durable, ordered table (commit_log, alert_stream) out to this process's live-stream
 * clients: woken by NOTIFY, it reads the rows after the last one it served and hands them to
 * every subscriber, so a client connected to any process sees every commit, whichever process
 * made it. A client resuming with Last-Event-ID gets the rows it missed from the table
 * (`replay`), then the live ones, without gap or repeat: rows are ordered by a sequence that
 * follows commit order (see commit-log.ts).
 */
import type { Logger } from 'pino';
import type { PgBus } from './bus.ts';

export interface SeqRow {
  seq: number;
}

export interface FeedHubOptions<R extends SeqRow> {
  bus: PgBus;
  channel: string;
  logger: Logger;
  /** Rows after `after`, in order, at most `limit`. */
  read(after: number, limit: number): Promise<R[]>;
  /** The newest seq at start: a hub serves what is committed after it starts. */
  last(): Promise<number>;
  pageSize: number;
  /**
   * The last rows served kept in memory, shared by resuming clients; bounded by their total
   * weight (a commit weighs its observations: under a backlog every commit is a full batch,
   * and a bound in rows would hold millions of observations).
   */
  ring?: { maxWeight: number; weight(row: R): number };
}

export interface HubSubscriber<R> {
  send(rows: R[]): void;
}

export class FeedHub<R extends SeqRow> {
  private served = 0;
  /** The last rows served, contiguous (every row served since the oldest held). */
  private ring: R[] = [];
  private ringWeight = 0;
  private readonly subscribers = new Set<HubSubscriber<R>>();
  private pumping = false;
  private again = false;
  private unsubscribe: Array<() => void> = [];
  private started = false;

  constructor(private readonly o: FeedHubOptions<R>) {}

  /** Seq of the newest row handed to subscribers. */
  get position(): number {
    return this.served;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  async start(): Promise<void> {
    this.served = await this.o.last();
    this.unsubscribe.push(
      await this.o.bus.on(this.o.channel, (payload) => {
        // Nobody listening here: no need to read the rows, only to know how far the table goes
        // (the payload is the newest committed seq; notifications arrive in commit order).
        const seq = Number(payload);
        // A hub with a ring reads anyway: a client resuming later must find its rows in
        // memory, not read its own copy from the table.
        if (!this.o.ring && this.subscribers.size === 0 && !this.pumping && Number.isSafeInteger(seq) && seq > 0) {
          this.served = Math.max(this.served, seq);
          return;
        }
        this.pump();
      }),
    );
    this.unsubscribe.push(this.o.bus.onReconnect(() => this.pump()));
    this.started = true;
    // A row committed between reading the last seq and LISTEN taking effect.
    this.pump();
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.subscribers.clear();
    this.started = false;
  }

  subscribe(s: HubSubscriber<R>): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  /**
   * Rows in (after, upTo], for a client resuming with Last-Event-ID; null when more than `max`
   * (the client must re-read history instead of replaying a flood).
   */
  async replay(after: number, upTo: number, max: number): Promise<R[] | null> {
    // Served from memory when the ring reaches back to `after`: every resuming client then
    // shares the same row objects (and the frames built from them).
    const oldest = this.ring[0];
    if (oldest && after >= oldest.seq - 1) {
      const from = this.ring.findIndex((r) => r.seq > after);
      const out = from < 0 ? [] : this.ring.slice(from).filter((r) => r.seq <= upTo);
      return out.length > max ? null : out;
    }
    const out: R[] = [];
    let cursor = after;
    while (cursor < upTo) {
      const rows = await this.o.read(cursor, this.o.pageSize);
      if (rows.length === 0) break;
      for (const r of rows) {
        if (r.seq > upTo) return out;
        out.push(r);
        if (out.length > max) return null;
      }
      cursor = rows[rows.length - 1]!.seq;
    }
    return out;
  }

  private remember(rows: R[]): void {
    const ring = this.o.ring;
    if (!ring) return;
    for (const r of rows) {
      this.ring.push(r);
      this.ringWeight += ring.weight(r);
    }
    let drop = 0;
    while (this.ringWeight > ring.maxWeight && drop < this.ring.length) this.ringWeight -= ring.weight(this.ring[drop++]!);
    if (drop > 0) this.ring.splice(0, drop);
  }

  /** Reads until caught up, serving every page to the subscribers. */
  pump(): void {
    if (!this.started) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            const rows = await this.o.read(this.served, this.o.pageSize);
            if (rows.length === 0) break;
            this.served = rows[rows.length - 1]!.seq;
            this.remember(rows);
            for (const s of this.subscribers) s.send(rows);
            if (rows.length < this.o.pageSize) break;
          }
        } while (this.again);
      } catch (err) {
        this.o.logger.warn({ err, channel: this.o.channel }, 'live stream read failed; next notification retries');
      } finally {
        this.pumping = false;
      }
    })();
  }
}
