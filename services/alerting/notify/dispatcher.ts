/**
 * Sends alert events to a rule's targets: webhook, MQTT, log. Each target runs on its own;
 * the engine never awaits them, so a slow or failing target blocks neither evaluation nor
 * the other targets. Every attempt is recorded in alert_deliveries.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NotifyTarget } from '../../../schemas/alerting.ts';
import type { AlertView } from '../store/alerts.ts';
import { notification, type NotifyEvent } from './payload.ts';
import type { TopicRoute } from '../../../ingest/topic-routes.ts';
import { mqttTopicProblem } from './outbound.ts';
import { deliverWebhook, type WebhookOptions } from './webhook.ts';

export interface DispatcherDeps {
  logger: Logger;
  webhook: WebhookOptions & { defaultUrl?: string };
  mqttTopicRoot: string;
  /** Ingest subscriptions: an alert topic matching one would be read back as telemetry. */
  ingestRoutes: readonly TopicRoute[];
  publish: (topic: string, payload: string, retain: boolean) => Promise<void>;
  record: (d: { alertId: string; event: string; target: string; attempt: number; status: 'delivered' | 'failed'; httpStatus: number | null; error: string | null }) => Promise<void>;
  now: () => number;
}

/** `vigie/alerts/<rule>/<device>[/<channel>]`: one retained topic per open-able alert. */
export function alertTopic(root: string, alert: AlertView): string {
  return `${root}/${alert.ruleId}/${alert.deviceId}${alert.channel ? `/${alert.channel}` : ''}`;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class Dispatcher {
  private readonly inflight = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly d: DispatcherDeps) {}

  send(event: NotifyEvent, alert: AlertView, targets: NotifyTarget[]): void {
    const body = JSON.stringify(notification(event, alert, randomUUID(), new Date(this.d.now())));
    for (const target of targets) {
      const p = this.deliver(event, alert, target, body).catch((err) => this.d.logger.error({ err, alertId: alert.id, target: target.type }, 'notification failed'));
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }
  }

  /** Waits for deliveries in progress (bounded by the caller), then abandons retries. */
  async stop(timeoutMs: number): Promise<void> {
    const all = Promise.allSettled([...this.inflight]);
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.abort.abort();
  }

  private async safeRecord(rec: Parameters<DispatcherDeps['record']>[0]): Promise<void> {
    try {
      await this.d.record(rec);
    } catch (err) {
      this.d.logger.warn({ err, alertId: rec.alertId }, 'could not record a delivery');
    }
  }

  private async deliver(event: NotifyEvent, alert: AlertView, target: NotifyTarget, body: string): Promise<void> {
    switch (target.type) {
      case 'log': {
        const level = alert.severity === 'critical' ? 'error' : alert.severity === 'warning' ? 'warn' : 'info';
        this.d.logger[level]({ alertEvent: event, alert }, `alert ${event}: ${alert.summary}`);
        await this.safeRecord({ alertId: alert.id, event, target: 'log', attempt: 1, status: 'delivered', httpStatus: null, error: null });
        return;
      }
      case 'mqtt': {
        const topic = target.topic ?? alertTopic(this.d.mqttTopicRoot, alert);
        // Rule files are checked here too: they reach the dispatcher without the API's validation.
        const problem = mqttTopicProblem(topic, this.d.mqttTopicRoot, this.d.ingestRoutes);
        if (problem) {
          await this.safeRecord({ alertId: alert.id, event, target: `mqtt:${topic}`, attempt: 1, status: 'failed', httpStatus: null, error: `refused: ${problem}` });
          return;
        }
        try {
          // Retained, so a sign or SCADA that reconnects reads the current state at once.
          // While the broker is away mqtt.js queues QoS 1 messages: bound the wait, record it.
          await withTimeout(this.d.publish(topic, body, true), this.d.webhook.timeoutMs, `no PUBACK within ${this.d.webhook.timeoutMs} ms`);
          await this.safeRecord({ alertId: alert.id, event, target: `mqtt:${topic}`, attempt: 1, status: 'delivered', httpStatus: null, error: null });
        } catch (err) {
          await this.safeRecord({ alertId: alert.id, event, target: `mqtt:${topic}`, attempt: 1, status: 'failed', httpStatus: null, error: (err as Error).message });
        }
        return;
      }
      case 'webhook': {
        const url = target.url ?? this.d.webhook.defaultUrl;
        if (!url) {
          await this.safeRecord({ alertId: alert.id, event, target: 'webhook', attempt: 1, status: 'failed', httpStatus: null, error: 'no url (set VIGIE_ALERT_WEBHOOK_URL)' });
          return;
        }
        const ok = await deliverWebhook(
          url,
          body,
          { 'x-vigie-event': `alert.${event}` },
          this.d.webhook,
          (a) => this.safeRecord({ alertId: alert.id, event, target: `webhook:${url}`, attempt: a.attempt, status: a.ok ? 'delivered' : 'failed', httpStatus: a.httpStatus, error: a.error }),
          this.abort.signal,
        );
        if (!ok) this.d.logger.warn({ alertId: alert.id, url }, 'webhook delivery gave up');
      }
    }
  }
}
