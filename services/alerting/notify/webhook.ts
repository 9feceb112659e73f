/**
 * Webhook delivery: JSON POST with a timeout per attempt and exponential backoff between
 * attempts. Every attempt is reported (the dispatcher records it on the alert). A 4xx other
 * than 408/429 is the receiver refusing the content: retrying cannot help, so it stops.
 */
import http from 'node:http';
import https from 'node:https';
import pRetry, { AbortError } from 'p-retry';
import type { OutboundPolicy } from './outbound.ts';
import { SIGNATURE_HEADER, sign } from './signature.ts';

export interface WebhookOptions {
  secret?: string;
  timeoutMs: number;
  retries: number;
  /** First wait between attempts, doubled at each retry. */
  backoffMs: number;
  /** Where webhooks may go (VIGIE_ALERT_WEBHOOK_ALLOW): checked before each attempt and at connection time. */
  policy: OutboundPolicy;
}

export interface AttemptReport {
  attempt: number;
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
}

/**
 * One POST over node:http, whose `lookup` hook lets the policy see the addresses actually
 * connected to. Redirects are not followed (a 3xx is a refusal): a redirect could lead
 * anywhere.
 */
function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number, policy: OutboundPolicy): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: policy.lookupFor(url), agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`timeout after ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
    timer.unref();
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(body);
  });
}

/** One POST; `retryable` says whether another attempt could succeed. */
async function attemptOnce(url: string, body: string, headers: Record<string, string>, o: WebhookOptions, attempt: number): Promise<AttemptReport & { retryable: boolean }> {
  const verdict = await o.policy.check(url);
  if (!verdict.ok) return { attempt, ok: false, httpStatus: null, error: `refused by VIGIE_ALERT_WEBHOOK_ALLOW: ${verdict.reason}`, retryable: false };
  try {
    const status = await post(url, body, headers, o.timeoutMs, o.policy);
    const ok = status >= 200 && status < 300;
    const retryable = !ok && (status >= 500 || status === 408 || status === 429);
    return { attempt, ok, httpStatus: status, error: ok ? null : `HTTP ${status}`, retryable };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'VIGIE_ERR_WEBHOOK_NOT_ALLOWED') return { attempt, ok: false, httpStatus: null, error: `refused by VIGIE_ALERT_WEBHOOK_ALLOW: ${e.message}`, retryable: false };
    return { attempt, ok: false, httpStatus: null, error: e.name === 'TimeoutError' ? e.message : (e.code ?? e.message), retryable: true };
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
        const { retryable, ...report } = await attemptOnce(url, body, allHeaders, o, attempt);
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
