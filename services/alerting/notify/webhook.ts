/**
 * Webhook delivery: JSON POST with a timeout per attempt and exponential backoff between
 * attempts. Every attempt is reported (the dispatcher records it on the alert). A 4xx other
 * than 408/429 is the receiver refusing the content: retrying cannot help, so it stops.
 */
import pRetry, { AbortError } from 'p-retry';
import { SIGNATURE_HEADER, sign } from './signature.ts';

export interface WebhookOptions {
  secret?: string;
  timeoutMs: number;
  retries: number;
  /** First wait between attempts, doubled at each retry. */
  backoffMs: number;
}

export interface AttemptReport {
  attempt: number;
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
}

/** One POST; `retryable` says whether another attempt could succeed. */
async function attemptOnce(url: string, body: string, headers: Record<string, string>, timeoutMs: number, attempt: number): Promise<AttemptReport & { retryable: boolean }> {
  try {
    const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 300;
    const retryable = !ok && (res.status >= 500 || res.status === 408 || res.status === 429);
    return { attempt, ok, httpStatus: res.status, error: ok ? null : `HTTP ${res.status}`, retryable };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { attempt, ok: false, httpStatus: null, error: e.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (e.cause?.code ?? e.message), retryable: true };
  }
}

export async function deliverWebhook(url: string, body: string, headers: Record<string, string>, o: WebhookOptions, onAttempt: (a: AttemptReport) => Promise<void> | void, signal?: AbortSignal): Promise<boolean> {
  const allHeaders: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'vigie-alerting', ...headers };
  if (o.secret) allHeaders[SIGNATURE_HEADER] = sign(o.secret, body);
  let attempt = 0;
  try {
    // The same retry machinery as the store's running sink: p-retry, exact doubling.
    await pRetry(
      async () => {
        attempt += 1;
        const { retryable, ...report } = await attemptOnce(url, body, allHeaders, o.timeoutMs, attempt);
        await onAttempt(report);
        if (report.ok) return;
        const failure = new Error(report.error ?? 'delivery failed');
        throw retryable ? failure : new AbortError(failure);
      },
      { retries: o.retries, minTimeout: o.backoffMs, factor: 2, randomize: false, signal },
    );
    return true;
  } catch {
    return false;
  }
}
