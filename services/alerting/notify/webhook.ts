/**
 * One webhook attempt: JSON POST with a timeout, signed when a secret is set. Retries are the
 * outbox's (notify/outbox.ts): they survive a crash or a failover. A 4xx other than 408/429 is
 * the receiver refusing the content: retrying cannot help.
 */
import { SIGNATURE_HEADER, sign } from './signature.ts';

export interface WebhookOptions {
  secret?: string;
  timeoutMs: number;
  retries: number;
  /** First wait between attempts, doubled at each retry. */
  backoffMs: number;
}

export interface AttemptReport {
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
  /** Whether another attempt could succeed. */
  retryable: boolean;
}

export async function attemptWebhook(url: string, body: string, headers: Record<string, string>, o: WebhookOptions): Promise<AttemptReport> {
  const allHeaders: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'vigie-alerting', ...headers };
  if (o.secret) allHeaders[SIGNATURE_HEADER] = sign(o.secret, body);
  try {
    const res = await fetch(url, { method: 'POST', body, headers: allHeaders, signal: AbortSignal.timeout(o.timeoutMs), redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 300;
    const retryable = !ok && (res.status >= 500 || res.status === 408 || res.status === 429);
    return { ok, httpStatus: res.status, error: ok ? null : `HTTP ${res.status}`, retryable };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { ok: false, httpStatus: null, error: e.name === 'TimeoutError' ? `timeout after ${o.timeoutMs} ms` : (e.cause?.code ?? e.message), retryable: true };
  }
}
