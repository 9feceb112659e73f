/**
 * Alerts and their timeline. One open alert per (rule, device, channel) is enforced by a
 * partial unique index; a transition either opens one, moves it along, or closes it.
 */
import type pg from 'pg';
import type { AlertState, Severity } from '../../../schemas/alerting.ts';
import type { Transition } from '../core.ts';

export interface AlertView {
  id: string;
  ruleId: string;
  ruleName: string;
  severity: Severity;
  domain: string | null;
  deviceId: string;
  channel: string;
  state: AlertState;
  startedAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  lastValue: number | null;
  summary: string;
  silenced: boolean;
  silenceId: string | null;
  ack: { at: string; by: string; comment: string } | null;
  escalatedAt: string | null;
  updatedAt: string;
}

export interface TimelineEntry {
  type: string;
  time: string;
  at: string;
  value: number | null;
  detail: Record<string, unknown>;
}

export interface DeliveryView {
  event: string;
  target: string;
  attempt: number;
  status: 'delivered' | 'failed';
  httpStatus: number | null;
  error: string | null;
  at: string;
}

const isoOrNull = (d: unknown) => (d ? (d as Date).toISOString() : null);

export function toAlertView(r: Record<string, unknown>): AlertView {
  return {
    id: String(r.id),
    ruleId: r.rule_id as string,
    ruleName: r.rule_name as string,
    severity: r.severity as Severity,
    domain: (r.domain as string) ?? null,
    deviceId: r.device_id as string,
    channel: r.channel as string,
    state: r.state as AlertState,
    startedAt: (r.started_at as Date).toISOString(),
    firedAt: isoOrNull(r.fired_at),
    resolvedAt: isoOrNull(r.resolved_at),
    lastValue: (r.last_value as number) ?? null,
    summary: r.summary as string,
    silenced: r.silenced as boolean,
    silenceId: r.silence_id === null || r.silence_id === undefined ? null : String(r.silence_id),
    ack: r.acked_at ? { at: (r.acked_at as Date).toISOString(), by: r.acked_by as string, comment: (r.ack_comment as string) ?? '' } : null,
    escalatedAt: isoOrNull(r.escalated_at),
    updatedAt: (r.updated_at as Date).toISOString(),
  };
}

function summaryOf(tr: Transition): string {
  const where = tr.device.name ?? tr.device.id;
  const shown = Object.entries(tr.values).map(([m, v]) => `${m} = ${v}`);
  const values = shown.length > 0 ? ` (${shown.join(', ')})` : tr.reason ? ` (${tr.reason})` : '';
  return `${tr.rule.rule.name}: ${where}${tr.channel ? ` ${tr.channel}` : ''}${values}`;
}

export async function addEvent(db: pg.Pool | pg.PoolClient, alertId: string, type: string, time: Date, value: number | null, detail: Record<string, unknown>): Promise<void> {
  await db.query(`insert into alert_events (alert_id, type, time, value, detail) values ($1, $2, $3, $4, $5)`, [alertId, type, time, value, JSON.stringify(detail)]);
}

/**
 * Writes one transition; returns the alert after it, or null for a resolution with no open
 * alert to close. Alerts are addressed by their key (rule, device, channel) and the
 * one-open-alert index, not by a remembered id, so a state that got ahead of the table (a
 * failed commit) cannot open a second alert or lose one. `silenceId` is the silence
 * covering the alert when it fires (recorded, so the timeline tells why nobody was notified).
 */
export async function applyTransition(db: pg.PoolClient, tr: Transition, silenceId: string | null): Promise<AlertView | null> {
  const time = new Date(tr.time);
  const detail = { reason: tr.reason, values: tr.values };
  let row: Record<string, unknown> | undefined;
  if (tr.kind === 'pending' || tr.kind === 'firing') {
    const state = tr.kind;
    const res = await db.query(
      `insert into alerts (rule_id, rule_name, severity, domain, device_id, channel, state, started_at, fired_at, last_value, summary, silenced, silence_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       on conflict (rule_id, device_id, channel) where state <> 'resolved'
       do update set state = excluded.state, fired_at = coalesce(excluded.fired_at, alerts.fired_at), last_value = coalesce(excluded.last_value, alerts.last_value),
         summary = excluded.summary, silenced = alerts.silenced or excluded.silenced, silence_id = coalesce(alerts.silence_id, excluded.silence_id), updated_at = now()
       returning *`,
      [
        tr.rule.rule.id,
        tr.rule.rule.name,
        tr.rule.rule.severity,
        tr.device.domain ?? null,
        tr.device.id,
        tr.channel,
        state,
        new Date(tr.state.since ?? tr.time),
        state === 'firing' ? time : null,
        tr.value,
        summaryOf(tr),
        silenceId !== null,
        silenceId,
      ],
    );
    row = res.rows[0];
  } else {
    const res = await db.query(
      `update alerts set state = 'resolved', resolved_at = $4, last_value = coalesce($5, last_value), updated_at = now()
        where rule_id = $1 and device_id = $2 and channel = $3 and state <> 'resolved' returning *`,
      [tr.rule.rule.id, tr.device.id, tr.channel, time, tr.value],
    );
    row = res.rows[0];
    if (!row) {
      tr.state.alertId = null;
      return null;
    }
  }
  const alert = toAlertView(row!);
  await addEvent(db, alert.id, tr.kind, time, tr.value, detail);
  if (tr.kind === 'firing' && silenceId !== null) await addEvent(db, alert.id, 'silenced', time, null, { silenceId });
  tr.state.alertId = tr.kind === 'resolved' || tr.kind === 'cancelled' ? null : alert.id;
  return alert;
}

/** Keeps the open alert's last value current without adding timeline noise. */
export async function touchOpenAlerts(db: pg.PoolClient, updates: Array<{ id: string; value: number | null }>): Promise<void> {
  if (updates.length === 0) return;
  await db.query(
    `update alerts a set last_value = coalesce(u.v, a.last_value), updated_at = now()
       from unnest($1::bigint[], $2::float8[]) as u(id, v) where a.id = u.id and a.state <> 'resolved'`,
    [updates.map((u) => u.id), updates.map((u) => u.value)],
  );
}

export interface AlertFilter {
  state?: AlertState[];
  severity?: Severity[];
  domain?: string;
  device?: string[];
  rule?: string[];
  from?: Date;
  to?: Date;
  before?: string;
  limit: number;
}

export async function listAlerts(pool: pg.Pool, f: AlertFilter): Promise<AlertView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replaceAll('?', `$${params.length}`));
  };
  if (f.state?.length) add('state = any(?::text[])', f.state);
  if (f.severity?.length) add('severity = any(?::text[])', f.severity);
  if (f.domain) add('domain = ?', f.domain);
  if (f.device?.length) add('device_id = any(?::text[])', f.device);
  if (f.rule?.length) add('rule_id = any(?::text[])', f.rule);
  // Alerts active at some point of [from, to].
  if (f.from) add('coalesce(resolved_at, \'infinity\') >= ?', f.from);
  if (f.to) add('started_at <= ?', f.to);
  if (f.before) add('id < ?', f.before);
  params.push(f.limit);
  const { rows } = await pool.query(`select * from alerts ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit $${params.length}`, params);
  return rows.map(toAlertView);
}

export async function getAlert(pool: pg.Pool, id: string): Promise<{ alert: AlertView; timeline: TimelineEntry[]; deliveries: DeliveryView[] } | null> {
  const { rows } = await pool.query(`select * from alerts where id = $1`, [id]);
  if (!rows[0]) return null;
  const events = await pool.query(`select type, time, at, value, detail from alert_events where alert_id = $1 order by id`, [id]);
  const deliveries = await pool.query(`select event, target, attempt, status, http_status, error, at from alert_deliveries where alert_id = $1 order by id`, [id]);
  return {
    alert: toAlertView(rows[0]),
    timeline: events.rows.map((e) => ({ type: e.type, time: e.time.toISOString(), at: e.at.toISOString(), value: e.value, detail: e.detail })),
    deliveries: deliveries.rows.map((d) => ({ event: d.event, target: d.target, attempt: d.attempt, status: d.status, httpStatus: d.http_status, error: d.error, at: d.at.toISOString() })),
  };
}

export type AckOutcome = { ok: true; alert: AlertView } | { ok: false; code: 'not_found' | 'resolved' | 'already_acked' };

export async function ackAlert(pool: pg.Pool, id: string, user: string, comment: string, now: Date): Promise<AckOutcome> {
  const { rows } = await pool.query(
    `update alerts set acked_at = $2, acked_by = $3, ack_comment = $4, updated_at = now() where id = $1 and state <> 'resolved' and acked_at is null returning *`,
    [id, now, user, comment],
  );
  if (!rows[0]) {
    const cur = await pool.query(`select state, acked_at from alerts where id = $1`, [id]);
    if (!cur.rows[0]) return { ok: false, code: 'not_found' };
    return { ok: false, code: cur.rows[0].state === 'resolved' ? 'resolved' : 'already_acked' };
  }
  await addEvent(pool, id, 'acknowledged', now, null, { user, comment });
  return { ok: true, alert: toAlertView(rows[0]) };
}

/** Firing critical alerts nobody acknowledged and not yet escalated. */
export async function escalationCandidates(pool: pg.Pool): Promise<AlertView[]> {
  const { rows } = await pool.query(`select * from alerts where state = 'firing' and severity = 'critical' and acked_at is null and escalated_at is null and not silenced`);
  return rows.map(toAlertView);
}

export async function markEscalated(pool: pg.Pool | pg.PoolClient, id: string, now: Date, afterMs: number): Promise<AlertView | null> {
  const { rows } = await pool.query(`update alerts set escalated_at = $2, updated_at = now() where id = $1 and escalated_at is null and acked_at is null returning *`, [id, now]);
  if (!rows[0]) return null;
  await addEvent(pool, id, 'escalated', now, null, { unacknowledgedFor: `${Math.round(afterMs / 1000)}s` });
  return toAlertView(rows[0]);
}

export async function recordDelivery(pool: pg.Pool, d: { alertId: string; event: string; target: string; attempt: number; status: 'delivered' | 'failed'; httpStatus: number | null; error: string | null }): Promise<void> {
  await pool.query(`insert into alert_deliveries (alert_id, event, target, attempt, status, http_status, error) values ($1, $2, $3, $4, $5, $6, $7)`, [
    d.alertId,
    d.event,
    d.target,
    d.attempt,
    d.status,
    d.httpStatus,
    d.error,
  ]);
}

/** Open alerts of rules that no longer run (removed from the files, deleted, disabled). */
export async function orphanRuleIds(pool: pg.Pool, ruleIds: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ rule_id: string }>(`select distinct rule_id from alerts where state <> 'resolved' and not (rule_id = any($1::text[]))`, [ruleIds]);
  return rows.map((r) => r.rule_id);
}

/** Closes the open alerts of a rule that was deleted or disabled. */
export async function closeRuleAlerts(pool: pg.Pool | pg.PoolClient, ruleId: string, now: Date, reason: string): Promise<AlertView[]> {
  const { rows } = await pool.query(`update alerts set state = 'resolved', resolved_at = $2, updated_at = now() where rule_id = $1 and state <> 'resolved' returning *`, [ruleId, now]);
  for (const r of rows) await addEvent(pool, String(r.id), 'resolved', now, null, { reason });
  return rows.map(toAlertView);
}
