/** The JSON body every notifier sends (webhook body, MQTT payload, log fields): one shape, documented. */
import type { AlertView } from '../store/alerts.ts';

export type NotifyEvent = 'firing' | 'resolved' | 'escalated';

export interface AlertNotification {
  /** `alert.firing`, `alert.resolved`, `alert.escalated`. */
  type: `alert.${NotifyEvent}`;
  /** Unique per delivery batch; receivers may use it to drop duplicates. */
  id: string;
  sentAt: string;
  alert: AlertView;
}

export function notification(event: NotifyEvent, alert: AlertView, id: string, now: Date): AlertNotification {
  return { type: `alert.${event}`, id, sentAt: now.toISOString(), alert };
}
