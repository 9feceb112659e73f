/**
 * Live streams do not outlive their identity: a token revoked through the API ends its open
 * streams at once; one revoked elsewhere (the CLI, another process) or expired ends them at
 * the next re-check (VIGIE_AUTH_RECHECK_MS). Other streams go on.
 */
import t from 'tap';
import { bearer, createTestToken } from '../helpers/auth.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { openSse } from '../helpers/sse.ts';

const tp = await startTestPlatform({ env: { VIGIE_AUTH_RECHECK_MS: '200', VIGIE_STREAM_HEARTBEAT_MS: '60000' } });
t.teardown(() => tp.stop());
const pool = tp.platform.pool;
const base = tp.platform.httpUrl;
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]).then((ok) => (ok ? ok : Promise.reject(new Error(`${what} still open after ${ms} ms`))));

t.test('revoked through the API: its streams end at once, others go on', async (t) => {
  const a = await createTestToken(pool, 'viewer');
  const b = await createTestToken(pool, 'viewer');
  const obs = await openSse(`${base}/api/v1/stream`, bearer(a.token));
  const alerts = await openSse(`${base}/api/v1/alerts/stream`, bearer(a.token));
  const other = await openSse(`${base}/api/v1/stream`, bearer(b.token));
  t.same([obs.status, alerts.status, other.status], [200, 200, 200]);
  const res = await tp.platform.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${a.id}` });
  t.equal(res.statusCode, 204);
  t.ok(await within(obs.ended, 150, 'observation stream'), 'observation stream ended');
  t.ok(await within(alerts.ended, 150, 'alert stream'), 'alert stream ended');
  let otherEnded = false;
  void other.ended.then(() => (otherEnded = true));
  await new Promise((r) => setTimeout(r, 600));
  t.notOk(otherEnded, 'another token\'s stream is untouched');
  other.close();
});

t.test('revoked from another process, or expired: ended at the next re-check', async (t) => {
  const c = await createTestToken(pool, 'viewer');
  const d = await createTestToken(pool, 'viewer');
  const s1 = await openSse(`${base}/api/v1/stream`, bearer(c.token));
  const s2 = await openSse(`${base}/api/v1/alerts/stream`, bearer(d.token));
  await pool.query(`update api_tokens set revoked_at = now(), revoked_by = 'cli:test' where id = $1`, [c.id]);
  await pool.query(`update api_tokens set expires_at = now() where id = $1`, [d.id]);
  t.ok(await within(s1.ended, 3000, 'stream of a revoked token'));
  t.ok(await within(s2.ended, 3000, 'stream of an expired token'));
  t.equal((await openSse(`${base}/api/v1/stream`, bearer(c.token))).status, 401, 'and it cannot reopen');
});
