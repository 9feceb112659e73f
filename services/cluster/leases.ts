/**
 * Singleton roles (alert evaluation, notification delivery, Sparkplug host, storage upkeep,
 * InfluxDB mirror) run in exactly one process at a time. Each is a PostgreSQL session-level
 * advisory lock held on one dedicated connection of its holder (PostgreSQL 15 docs, §13.3.5
 * "Advisory Locks"): the server releases it when that session ends, so
 *  - a graceful stop unlocks at once;
 *  - a killed process's socket is closed by its kernel, the backend sees the end of the
 *    session and the lock is free within milliseconds;
 *  - a vanished host or a cut link is detected by TCP keepalives set on the session
 *    (tcp_keepalives_idle/interval/count), after about idle + interval x count seconds.
 * Every process that may hold a role tries the free ones every `checkMs`, so a role moves
 * within that delay (plus the keepalive time for a lost host). The holder itself stops its
 * roles as soon as its lock connection fails: from then on another process may take them.
 * Consumers also fence their writes (commit_consumers.epoch), so a holder that has not yet
 * noticed cannot write behind the new one.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Logger } from 'pino';
import { LOCK_CLASS, SINGLETONS, singletonKey, type Singleton } from './keys.ts';

export interface RoleHandler {
  /** Called once the lock is held; the role runs until `stop`. */
  start(): Promise<void>;
  /** Called on graceful stop or when the lock connection is lost; must not throw. */
  stop(): Promise<void>;
}

export interface LeaseOptions {
  url: string;
  logger: Logger;
  checkMs: number;
  /** Seconds of silence before the server probes a lock session, and probe spacing/count. */
  keepalive: { idleS: number; intervalS: number; count: number };
  /** Name shown in pg_stat_activity and GET /api/v1/cluster. */
  memberName?: string;
}

export const MEMBER_PREFIX = 'vigie-lease:';

export class LeaseManager {
  private client: pg.Client | null = null;
  private readonly roles = new Map<Singleton, RoleHandler>();
  private readonly held = new Set<Singleton>();
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> = Promise.resolve();
  private stopped = false;
  readonly member: string;

  constructor(private readonly o: LeaseOptions) {
    // host:pid, plus a few random characters: two platforms in one process (tests) stay apart.
    this.member = o.memberName ?? `${hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`;
  }

  register(role: Singleton, handler: RoleHandler): void {
    this.roles.set(role, handler);
  }

  holds(role: Singleton): boolean {
    return this.held.has(role);
  }

  /** Tries every role once now, then every `checkMs`. */
  async start(): Promise<void> {
    if (this.roles.size === 0) return;
    await this.check();
    this.timer = setInterval(() => {
      this.checking = this.checking.then(() => this.check());
    }, this.o.checkMs);
    this.timer.unref();
  }

  /** Stops the roles held, then releases their locks (another process takes them at its next check). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.checking;
    for (const role of [...this.held]) await this.release(role);
    await this.client?.end().catch(() => {});
    this.client = null;
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.o.url, application_name: `${MEMBER_PREFIX}${this.member}`.slice(0, 63), keepAlive: true });
    client.on('error', (err) => {
      this.o.logger.error({ err, roles: [...this.held] }, 'lease connection lost: stopping the singleton roles held');
      void this.lost(client);
    });
    await client.connect();
    const k = this.o.keepalive;
    await client.query(`select set_config('tcp_keepalives_idle', $1, false), set_config('tcp_keepalives_interval', $2, false), set_config('tcp_keepalives_count', $3, false)`, [
      String(k.idleS),
      String(k.intervalS),
      String(k.count),
    ]);
    this.client = client;
    return client;
  }

  private async lost(client: pg.Client): Promise<void> {
    if (this.client !== client) return;
    this.client = null;
    client.end().catch(() => {});
    // The server ends the session and frees the locks: the roles are no longer ours.
    const roles = [...this.held];
    this.held.clear();
    for (const role of roles) await this.roles.get(role)!.stop().catch((err) => this.o.logger.error({ err, role }, 'role stop failed'));
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    let client: pg.Client;
    try {
      client = await this.connection();
    } catch (err) {
      this.o.logger.warn({ err }, 'lease connection failed; retrying');
      return;
    }
    for (const [role, handler] of this.roles) {
      if (this.held.has(role) || this.stopped) continue;
      try {
        const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LOCK_CLASS, singletonKey(role)]);
        if (!rows[0]?.ok) continue;
      } catch (err) {
        this.o.logger.warn({ err, role }, 'lease attempt failed');
        return;
      }
      this.held.add(role);
      this.o.logger.info({ role, member: this.member }, 'singleton role acquired');
      try {
        await handler.start();
      } catch (err) {
        // Could not start: give the role back so another process (or a later check) can try.
        this.o.logger.error({ err, role }, 'singleton role failed to start; releasing it');
        await this.release(role);
      }
    }
  }

  private async release(role: Singleton): Promise<void> {
    if (!this.held.delete(role)) return;
    await this.roles.get(role)!.stop().catch((err) => this.o.logger.error({ err, role }, 'role stop failed'));
    await this.client?.query('select pg_advisory_unlock($1, $2)', [LOCK_CLASS, singletonKey(role)]).catch(() => {});
    this.o.logger.info({ role, member: this.member }, 'singleton role released');
  }
}

/** Which process holds each singleton role (from pg_locks), for GET /api/v1/cluster. */
export async function roleHolders(db: pg.Pool): Promise<Array<{ role: string; member: string | null }>> {
  const { rows } = await db.query<{ objid: number; application_name: string }>(
    `select l.objid::int as objid, a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.classid = $1::oid and l.objsubid = 2 and a.datname = current_database()`,
    [LOCK_CLASS],
  );
  return SINGLETONS.map((role) => {
    const r = rows.find((x) => x.objid === singletonKey(role));
    return { role, member: r ? r.application_name.slice(MEMBER_PREFIX.length) : null };
  });
}
