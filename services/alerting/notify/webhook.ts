/**
 * Webhook delivery: JSON POST with a timeout per attempt and exponential backoff between
 * attempts. Every attempt is reported (the dispatcher records it on the alert). A 4xx other
 * than 408/429 is the receiver refusing the content: retrying cannot help, so it stops.
 */
import { SIGNATURE_HEADER, sign } from './signature.ts';

export interface WebhookOptions {
  secret?: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  /** Waits between attempts (tests and backtests may shorten it). */
  sleep?: (ms: number) => Promise<void>;
}

export interface AttemptReport {
  attempt: number;
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export async function deliverWebhook(url: string, body: string, headers: Record<string, string>, o: WebhookOptions, onAttempt: (a: AttemptReport) => Promise<void> | void, signal?: AbortSignal): Promise<boolean> {
  const allHeaders: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'vigie-alerting', ...headers };
  if (o.secret) allHeaders[SIGNATURE_HEADER] = sign(o.secret, body);
  for (let attempt = 1; attempt <= o.retries + 1; attempt++) {
    if (signal?.aborted) return false;
    let report: AttemptReport;
    let retryable = true;
    try {
      const res = await fetch(url, { method: 'POST', body, headers: allHeaders, signal: AbortSignal.timeout(o.timeoutMs), redirect: 'manual' });
      await res.arrayBuffer().catch(() => undefined);
      const ok = res.status >= 200 && res.status < 300;
      retryable = !ok && (res.status >= 500 || res.status === 408 || res.status === 429);
      report = { attempt, ok, httpStatus: res.status, error: ok ? null : `HTTP ${res.status}` };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      report = { attempt, ok: false, httpStatus: null, error: e.name === 'TimeoutError' ? `timeout after ${o.timeoutMs} ms` : (e.cause?.code ?? e.message) };
    }
    await onAttempt(report);
    if (report.ok) return true;
    if (!retryable || attempt > o.retries) return false;
    await (o.sleep ?? sleep)(o.backoffMs * 2 ** (attempt - 1));
  }
  return false;
}
