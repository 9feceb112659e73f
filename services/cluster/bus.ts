/**
 * PostgreSQL LISTEN/NOTIFY for one process: one dedicated connection (a pooled one would lose
 * its LISTENs when returned), re-established after a failure. Notifications are only wake-up
 * calls: every listener re-reads the tables, so one lost while the connection was down costs
 * latency, not data (`onReconnect` tells listeners to catch up).
 */
import pg from 'pg';
import type { Logger } from 'pino';

export type Listener = (payload: string) => void;

export class PgBus {
  private client: pg.Client | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly applicationName: string,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  /** Subscribes a handler to a channel (LISTEN issued on first use). */
  async on(channel: string, handler: Listener): Promise<() => void> {
    let set = this.listeners.get(channel);
    if (!set) {
      this.listeners.set(channel, (set = new Set()));
      await this.client?.query(`listen ${pg.escapeIdentifier(channel)}`).catch((err) => this.logger.warn({ err, channel }, 'LISTEN failed'));
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.client?.end().catch(() => {});
    this.client = null;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: this.applicationName, keepAlive: true });
    client.on('notification', (n) => {
      for (const h of this.listeners.get(n.channel) ?? []) h(n.payload ?? '');
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'LISTEN connection failed; reconnecting');
      this.dropAndRetry(client);
    });
    client.on('end', () => this.dropAndRetry(client));
    await client.connect();
    for (const channel of this.listeners.keys()) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    this.client = client;
  }

  private dropAndRetry(client: pg.Client): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    client.end().catch(() => {});
    const attempt = () => {
      this.retry = null;
      if (this.stopped) return;
      this.connect().then(
        () => {
          for (const h of this.reconnectHandlers) h();
        },
        (err) => {
          this.logger.warn({ err }, 'LISTEN reconnect failed; retrying in 1 s');
          this.retry = setTimeout(attempt, 1000);
          this.retry.unref();
        },
      );
    };
    this.retry = setTimeout(attempt, 200);
    this.retry.unref();
  }
}

/** NOTIFY through any connection (inside a transaction it is delivered at commit). */
export async function notify(db: pg.Pool | pg.PoolClient, channel: string, payload = ''): Promise<void> {
  await db.query('select pg_notify($1, $2)', [channel, payload]);
}
