/**
 * The audit log: every write (who, what, when, from where, the answer's status). It keeps the
 * route and its path parameters, never request bodies or headers, so no secret (a token
 * being created, a webhook URL's credentials) can land in it.
 */
import type pg from 'pg';

export interface AuditEntry {
  subject: string | null;
  role: string | null;
  tokenId: string | null;
  action: string;
  target: Record<string, unknown>;
  status: number | null;
  source: string | null;
  userAgent: string | null;
}

export interface AuditView extends AuditEntry {
  id: number;
  at: string;
}

export async function recordAudit(db: pg.Pool | pg.PoolClient, e: AuditEntry): Promise<void> {
  await db.query(
    `insert into audit_log (subject, role, token_id, action, target, status, source, user_agent) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [e.subject, e.role, e.tokenId, e.action.slice(0, 300), JSON.stringify(e.target), e.status, e.source?.slice(0, 100) ?? null, e.userAgent?.slice(0, 300) ?? null],
  );
}

export interface AuditQuery {
  subject?: string;
  action?: string;
  from?: Date;
  to?: Date;
  before?: number;
  limit: number;
}

export async function listAudit(pool: pg.Pool, q: AuditQuery): Promise<AuditView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (q.subject) where.push(`subject = ${p(q.subject)}`);
  if (q.action) where.push(`action ilike ${p(`%${q.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
  if (q.from) where.push(`at >= ${p(q.from.toISOString())}`);
  if (q.to) where.push(`at < ${p(q.to.toISOString())}`);
  if (q.before !== undefined) where.push(`id < ${p(q.before)}`);
  const { rows } = await pool.query(
    `select * from audit_log ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit ${p(q.limit)}`,
    params,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    at: (r.at as Date).toISOString(),
    subject: r.subject,
    role: r.role,
    tokenId: r.token_id,
    action: r.action,
    target: r.target,
    status: r.status,
    source: r.source,
    userAgent: r.user_agent,
  }));
}
