/**
 * Delivers the notification outbox (alert_outbox) at least once: run by the one process that
 * holds the `notify` role. Rows are written with the alert change that caused them, so a
 * notification pending when a process dies is still there for the next holder. Each row is
 * attempted, its attempt recorded on the alert (alert_deliveries), then marked delivered or
 * rescheduled with exponential backoff (VIGIE_ALERT_WEBHOOK_BACKOFF_MS doubled per retry, up
 * to VIGIE_ALERT_WEBHOOK_RETRIES retries). A crash between a successful send and its mark
 * sends it again: receivers drop the duplicate by the event id (body `id`, X-Vigie-Event-Id).
 * Targets run independently: a slow one holds only its own (alert, target) queue.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { AlertView } from '../store/alerts.ts';
import { recordDelivery } from '../store/alerts.ts';
import { dueNotifications, markDelivered, markFailed, pruneOutbox, type OutboxRow } from '../store/outbox.ts';

const OUTBOX_KEEP_DAYS = 7;
import type { TopicRoute } from '../../../ingest/topic-routes.ts';
import { mqttTopicProblem } from './outbound.ts';
import { attemptWebhook, type WebhookOptions } from './webhook.ts';

/** `vigie/alerts/<rule>/<device>[/<channel>]`: one retained topic per open-able alert. */
export function alertTopic(root: string, alert: AlertView): string {
  return `${root}/${alert.ruleId}/${alert.deviceId}${alert.channel ? `/${alert.channel}` : ''}`;
}

export interface OutboxDeps {
  pool: pg.Pool;
  logger: Logger;
  webhook: WebhookOptions & { defaultUrl?: string };
  mqttTopicRoot: string;
  /** Ingest subscriptions: an alert topic matching one would be read back as telemetry. */
  ingestRoutes: readonly TopicRoute[];
  publish: (topic: string, payload: string, retain: boolean) => Promise<void>;
  /** Polling period (due retries); NOTIFY wakes the worker for new rows. */
  pollMs: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface Outcome {
  target: string;
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
  retryable: boolean;
}

export class OutboxWorker {
  private readonly busy = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private prune: NodeJS.Timeout | null = null;
  private running = false;
  private scanning = false;
  private again = false;

  constructor(private readonly d: OutboxDeps) {}

  start(): void {
    this.running = true;
    this.timer = setInterval(() => this.wake(), this.d.pollMs);
    this.timer.unref();
    // Delivered or abandoned rows are kept a week (alert_deliveries keeps every attempt for good).
    this.prune = setInterval(() => void pruneOutbox(this.d.pool, OUTBOX_KEEP_DAYS).catch((err) => this.d.logger.warn({ err }, 'outbox pruning failed')), 3_600_000);
    this.prune.unref();
    this.wake();
  }

  /** Stops taking rows; waits (bounded) for attempts in progress. What is left stays in the outbox. */
  async stop(timeoutMs: number): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.prune) clearInterval(this.prune);
    await Promise.race([Promise.allSettled([...this.busy.values()]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  wake(): void {
    if (!this.running) return;
    if (this.scanning) {
      this.again = true;
      return;
    }
    this.scanning = true;
    void this.scan()
      .catch((err) => this.d.logger.warn({ err }, 'outbox scan failed'))
      .finally(() => {
        this.scanning = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async scan(): Promise<void> {
    const rows = await dueNotifications(this.d.pool, 200);
    for (const row of rows) {
      const key = `${row.alertId}|${row.targetKey}`;
      if (this.busy.has(key) || !this.running) continue;
      const p = this.deliver(row)
        .catch((err) => this.d.logger.error({ err, outboxId: row.id }, 'notification attempt failed'))
        .finally(() => {
          this.busy.delete(key);
          this.wake();
        });
      this.busy.set(key, p);
    }
  }

  private async attempt(row: OutboxRow): Promise<Outcome> {
    const t = row.target;
    switch (t.type) {
      case 'log': {
        const alert = (JSON.parse(row.body) as { alert: AlertView }).alert;
        const level = alert.severity === 'critical' ? 'error' : alert.severity === 'warning' ? 'warn' : 'info';
        this.d.logger[level]({ alertEvent: row.event, eventId: row.eventId, alert }, `alert ${row.event}: ${alert.summary}`);
        return { target: 'log', ok: true, httpStatus: null, error: null, retryable: false };
      }
      case 'mqtt': {
        const alert = (JSON.parse(row.body) as { alert: AlertView }).alert;
        const topic = t.topic ?? alertTopic(this.d.mqttTopicRoot, alert);
        // Rule files are checked here too: they reach the outbox without the API's validation.
        const problem = mqttTopicProblem(topic, this.d.mqttTopicRoot, this.d.ingestRoutes);
        if (problem) return { target: `mqtt:${topic}`, ok: false, httpStatus: null, error: `refused: ${problem}`, retryable: false };
        try {
          // Retained, so a sign or SCADA that reconnects reads the current state at once.
          // While the broker is away mqtt.js queues QoS 1 messages: bound the wait, retry later.
          await withTimeout(this.d.publish(topic, row.body, true), this.d.webhook.timeoutMs, `no PUBACK within ${this.d.webhook.timeoutMs} ms`);
          return { target: `mqtt:${topic}`, ok: true, httpStatus: null, error: null, retryable: false };
        } catch (err) {
          return { target: `mqtt:${topic}`, ok: false, httpStatus: null, error: (err as Error).message, retryable: true };
        }
      }
      case 'webhook': {
        const url = t.url ?? this.d.webhook.defaultUrl;
        if (!url) return { target: 'webhook', ok: false, httpStatus: null, error: 'no url (set VIGIE_ALERT_WEBHOOK_URL)', retryable: false };
        const r = await attemptWebhook(url, row.body, { 'x-vigie-event': `alert.${row.event}`, 'x-vigie-event-id': row.eventId }, this.d.webhook);
        return { target: `webhook:${url}`, ...r };
      }
    }
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const attempt = row.attempts + 1;
    const r = await this.attempt(row);
    await recordDelivery(this.d.pool, { alertId: row.alertId, event: row.event, target: r.target, attempt, status: r.ok ? 'delivered' : 'failed', httpStatus: r.httpStatus, error: r.error }).catch((err) =>
      this.d.logger.warn({ err, alertId: row.alertId }, 'could not record a delivery'),
    );
    if (r.ok) {
      await markDelivered(this.d.pool, row.id, attempt);
      return;
    }
    const giveUp = !r.retryable || attempt > this.d.webhook.retries;
    if (giveUp) this.d.logger.warn({ alertId: row.alertId, target: r.target, attempts: attempt, error: r.error }, 'notification delivery gave up');
    const retryInMs = giveUp ? null : this.d.webhook.backoffMs * 2 ** (attempt - 1);
    await markFailed(this.d.pool, row.id, attempt, r.error ?? 'failed', retryInMs);
    if (retryInMs !== null) setTimeout(() => this.wake(), retryInMs + 5).unref();
  }
}
