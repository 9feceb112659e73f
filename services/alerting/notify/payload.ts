/** The JSON body every notifier sends (webhook body, MQTT payload, log fields): one shape, documented. */
import type { AlertView } from '../store/alerts.ts';

export type NotifyEvent = 'firing' | 'resolved' | 'escalated';

export interface AlertNotification {
  /** `alert.firing`, `alert.resolved`, `alert.escalated`. */
  type: `alert.${NotifyEvent}`;
  /** The alert event's stable id (also in the X-Vigie-Event-Id header): the same on every attempt and from every process, so receivers drop duplicates by it. */
  id: string;
  sentAt: string;
  alert: AlertView;
}

export function notification(event: NotifyEvent, alert: AlertView, id: string, now: Date): AlertNotification {
  return { type: `alert.${event}`, id, sentAt: now.toISOString(), alert };
}
