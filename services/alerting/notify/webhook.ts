/**
 * One webhook attempt: JSON POST with a timeout, signed when a secret is set. Retries are the
 * outbox's (notify/outbox.ts): they survive a crash or a failover. A 4xx other than 408/429 is
 * the receiver refusing the content: retrying cannot help.
 */
import http from 'node:http';
import https from 'node:https';
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
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
  /** Whether another attempt could succeed. */
  retryable: boolean;
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

/** One signed POST, checked against the outbound policy first. */
export async function attemptWebhook(url: string, body: string, headers: Record<string, string>, o: WebhookOptions): Promise<AttemptReport> {
  const allHeaders: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'vigie-alerting', ...headers };
  if (o.secret) allHeaders[SIGNATURE_HEADER] = sign(o.secret, body);
  const verdict = await o.policy.check(url);
  if (!verdict.ok) return { ok: false, httpStatus: null, error: `refused by VIGIE_ALERT_WEBHOOK_ALLOW: ${verdict.reason}`, retryable: false };
  try {
    const status = await post(url, body, allHeaders, o.timeoutMs, o.policy);
    const ok = status >= 200 && status < 300;
    const retryable = !ok && (status >= 500 || status === 408 || status === 429);
    return { ok, httpStatus: status, error: ok ? null : `HTTP ${status}`, retryable };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'VIGIE_ERR_WEBHOOK_NOT_ALLOWED') return { ok: false, httpStatus: null, error: `refused by VIGIE_ALERT_WEBHOOK_ALLOW: ${e.message}`, retryable: false };
    return { ok: false, httpStatus: null, error: e.name === 'TimeoutError' ? e.message : (e.code ?? e.message), retryable: true };
  }
}
