/**
 * The alert event stream (alert_stream) and the notification outbox (alert_outbox), written in
 * the transaction of the alert change that caused them. Appends to alert_stream take a
 * transaction-level advisory lock so ids follow commit order (a live stream that has served
 * id n never meets a smaller id later), as the commit feed does (services/cluster/commit-log.ts).
 */
import type pg from 'pg';
import type { NotifyTarget } from '../../../schemas/alerting.ts';
import { APPEND_LOCK, CHANNEL, LOCK_CLASS } from '../../cluster/keys.ts';
import type { AlertEvent } from '../engine.ts';
import { notification, type NotifyEvent } from '../notify/payload.ts';

export type StreamEvent = AlertEvent & { id: string };

export async function appendAlertStream(db: pg.Pool | pg.PoolClient, events: AlertEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `with lock as (select pg_advisory_xact_lock($1, $2)),
          ins as (
            insert into alert_stream (event_id, type, alert_id, body)
            select e, t, a, b from lock, unnest($3::uuid[], $4::text[], $5::bigint[], $6::json[]) with ordinality as u(e, t, a, b, n) order by n
            returning id)
     select pg_notify($7, max(id)::text) from ins`,
    [LOCK_CLASS, APPEND_LOCK.alertStream, events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.alert.id), events.map((e) => JSON.stringify(e)), CHANNEL.alertEvent],
  );
}

/** Stream events after `afterId`, oldest first. */
export async function readAlertStream(db: pg.Pool, afterId: number, limit: number): Promise<Array<{ seq: number; event: StreamEvent }>> {
  const { rows } = await db.query<{ id: number; body: StreamEvent }>(`select id, body from alert_stream where id > $1 order by id limit $2`, [afterId, limit]);
  return rows.map((r) => ({ seq: Number(r.id), event: r.body }));
}

export async function lastAlertStreamId(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ id: number | null }>(`select max(id) as id from alert_stream`);
  return Number(rows[0]?.id ?? 0);
}

/** What identifies a target for ordering: events of one alert reach one target in order. */
export function targetKey(t: NotifyTarget): string {
  switch (t.type) {
    case 'webhook':
      return `webhook:${t.url ?? '(default)'}`;
    case 'mqtt':
      return `mqtt:${t.topic ?? '(alert topic)'}`;
    default:
      return t.type;
  }
}

/**
 * One outbox row per (event, target). The body is fixed now, so every attempt, by whichever
 * process, sends the same bytes with the same `id` (the event's): receivers drop duplicates.
 */
export async function enqueueNotifications(client: pg.PoolClient, items: Array<{ event: AlertEvent; targets: NotifyTarget[] }>): Promise<void> {
  const rows = items.flatMap(({ event, targets }) =>
    targets.map((target) => ({
      eventId: event.id!,
      alertId: event.alert.id,
      event: event.type,
      target: JSON.stringify(target),
      key: targetKey(target),
      body: JSON.stringify(notification(event.type as NotifyEvent, event.alert, event.id!, new Date(event.at))),
    })),
  );
  if (rows.length === 0) return;
  await client.query(
    `insert into alert_outbox (event_id, alert_id, event, target, target_key, body)
     select * from unnest($1::uuid[], $2::bigint[], $3::text[], $4::jsonb[], $5::text[], $6::text[])`,
    [rows.map((r) => r.eventId), rows.map((r) => r.alertId), rows.map((r) => r.event), rows.map((r) => r.target), rows.map((r) => r.key), rows.map((r) => r.body)],
  );
  await client.query('select pg_notify($1, $2)', [CHANNEL.outbox, '']);
}

export interface OutboxRow {
  id: number;
  eventId: string;
  alertId: string;
  event: NotifyEvent;
  target: NotifyTarget;
  targetKey: string;
  body: string;
  attempts: number;
}

/**
 * Due notifications, excluding (alert, target) pairs in `busy`, and only the oldest
 * undelivered one of each pair: a `resolved` never overtakes its `firing` (a retained MQTT
 * topic would otherwise end in the wrong state).
 */
export async function dueNotifications(db: pg.Pool, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query(
    `select o.id, o.event_id, o.alert_id, o.event, o.target, o.target_key, o.body, o.attempts from alert_outbox o
      where o.delivered_at is null and o.given_up_at is null and o.next_attempt_at <= now()
        and not exists (select 1 from alert_outbox p where p.alert_id = o.alert_id and p.target_key = o.target_key and p.id < o.id and p.delivered_at is null and p.given_up_at is null)
      order by o.id limit $1`,
    [limit],
  );
  return rows.map((r) => ({ id: Number(r.id), eventId: r.event_id, alertId: String(r.alert_id), event: r.event, target: r.target, targetKey: r.target_key, body: r.body, attempts: r.attempts }));
}

export async function markDelivered(db: pg.Pool, id: number, attempts: number): Promise<void> {
  await db.query(`update alert_outbox set delivered_at = now(), attempts = $2, last_error = null where id = $1`, [id, attempts]);
}

export async function markFailed(db: pg.Pool, id: number, attempts: number, error: string, retryInMs: number | null): Promise<void> {
  await db.query(
    retryInMs === null
      ? `update alert_outbox set attempts = $2, last_error = $3, given_up_at = now() where id = $1`
      : `update alert_outbox set attempts = $2, last_error = $3, next_attempt_at = now() + make_interval(secs => $4::float8 / 1000) where id = $1`,
    retryInMs === null ? [id, attempts, error] : [id, attempts, error, retryInMs],
  );
}

/** Notifications not delivered yet (GET /api/v1/cluster, tests). */
export async function pendingNotifications(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from alert_outbox where delivered_at is null and given_up_at is null`);
  return rows[0]!.n;
}

/** Removes outbox rows finished more than `days` ago; the attempts stay in alert_deliveries. */
export async function pruneOutbox(db: pg.Pool, days: number): Promise<number> {
  const res = await db.query(`delete from alert_outbox where coalesce(delivered_at, given_up_at) < now() - make_interval(days => $1)`, [days]);
  return res.rowCount ?? 0;
}
