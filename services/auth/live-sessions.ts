/**
 * Long-lived responses (Server-Sent Events) outlive the check made when they opened: a token
 * revoked or expired afterwards must not keep receiving data. Open streams register here;
 * a revocation through the API closes its streams at once, and every `recheckMs` the tokens
 * of open streams are looked up again (a revocation from the CLI, in another process) and
 * OpenID Connect identities past their `exp` are closed.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Identity } from './identity.ts';

interface Session {
  identity: Identity;
  close: () => void;
}

export class LiveSessions {
  private readonly sessions = new Set<Session>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly recheckMs: number,
    private readonly logger: Logger,
  ) {}

  /** Registers an open stream; returns the function to call when it ends on its own. */
  open(identity: Identity, close: () => void): () => void {
    const s: Session = { identity, close };
    this.sessions.add(s);
    if (!this.timer && this.recheckMs > 0) {
      this.timer = setInterval(() => void this.recheck(), this.recheckMs);
      this.timer.unref();
    }
    return () => this.forget(s);
  }

  private forget(s: Session): void {
    this.sessions.delete(s);
    if (this.sessions.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private end(s: Session, why: string): void {
    this.logger.info({ subject: s.identity.subject, why }, 'closing a live stream: its identity is no longer valid');
    this.forget(s);
    s.close();
  }

  /** A token was revoked in this process: its streams end now. */
  revoked(tokenId: string): void {
    for (const s of [...this.sessions]) if (s.identity.tokenId === tokenId) this.end(s, 'token revoked');
  }

  async recheck(now = Date.now()): Promise<void> {
    for (const s of [...this.sessions]) if (s.identity.expiresAt !== undefined && s.identity.expiresAt <= now) this.end(s, 'token expired');
    const ids = [...new Set([...this.sessions].flatMap((s) => (s.identity.tokenId ? [s.identity.tokenId] : [])))];
    if (ids.length === 0) return;
    try {
      const { rows } = await this.pool.query<{ id: string }>(
        `select id from unnest($1::text[]) as ids(id)
          where not exists (select 1 from api_tokens t where t.id = ids.id and t.revoked_at is null and (t.expires_at is null or t.expires_at > now()))`,
        [ids],
      );
      const gone = new Set(rows.map((r) => r.id));
      for (const s of [...this.sessions]) if (s.identity.tokenId && gone.has(s.identity.tokenId)) this.end(s, 'token revoked or expired');
    } catch (err) {
      this.logger.warn({ err }, 'could not re-check the tokens of live streams');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sessions.clear();
  }
}
