/** Silences (maintenance windows): recorded with who and why; deleting one ends it but keeps the record. */
import type pg from 'pg';
import type { Scope, SilenceInput } from '../../../schemas/alerting.ts';

export interface SilenceView {
  id: string;
  scope: Scope & { rules?: string[] };
  startsAt: string;
  endsAt: string;
  reason: string;
  createdBy: string;
  createdAt: string;
  deletedAt: string | null;
}

function toView(r: Record<string, unknown>): SilenceView {
  return {
    id: String(r.id),
    scope: r.scope as SilenceView['scope'],
    startsAt: (r.starts_at as Date).toISOString(),
    endsAt: (r.ends_at as Date).toISOString(),
    reason: r.reason as string,
    createdBy: r.created_by as string,
    createdAt: (r.created_at as Date).toISOString(),
    deletedAt: r.deleted_at ? (r.deleted_at as Date).toISOString() : null,
  };
}

export async function insertSilence(pool: pg.Pool, s: SilenceInput): Promise<SilenceView> {
  const { rows } = await pool.query(`insert into alert_silences (scope, starts_at, ends_at, reason, created_by) values ($1, $2, $3, $4, $5) returning *`, [
    JSON.stringify(s.scope),
    s.startsAt,
    s.endsAt,
    s.reason,
    s.createdBy,
  ]);
  return toView(rows[0]);
}

export async function listSilences(pool: pg.Pool, opts: { activeAt?: Date; includeDeleted: boolean }): Promise<SilenceView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (!opts.includeDeleted) where.push('deleted_at is null');
  if (opts.activeAt) {
    params.push(opts.activeAt);
    where.push(`starts_at <= $1 and ends_at > $1`);
  }
  const { rows } = await pool.query(`select * from alert_silences ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit 1000`, params);
  return rows.map(toView);
}

/** Silences not deleted and not over by `now` (the engine caches these). */
export async function currentSilences(pool: pg.Pool, now: Date): Promise<SilenceView[]> {
  const { rows } = await pool.query(`select * from alert_silences where deleted_at is null and ends_at > $1`, [now]);
  return rows.map(toView);
}

export async function deleteSilence(pool: pg.Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(`update alert_silences set deleted_at = now() where id = $1 and deleted_at is null`, [id]);
  return rowCount === 1;
}
