/**
 * Access control end to end on a real platform (PostgreSQL, broker, HTTP): anonymous callers,
 * roles, token life (revocation, expiry, last use), the audit log of every write route,
 * secrets kept out of the OpenAPI document, security headers, body limits.
 */
import t from 'tap';
import { createTestToken, bearer } from '../helpers/auth.ts';
import { startTestPlatform, TEST_ADMIN_TOKEN } from '../helpers/platform.ts';

const tp = await startTestPlatform({ env: { VIGIE_TOKEN_TOUCH_MS: '60000' } });
t.teardown(() => tp.stop());
const app = tp.platform.app;
const pool = tp.platform.pool;

type Op = { method: string; path: string };
const doc = (await tp.get<{ paths: Record<string, Record<string, unknown>> }>('/docs/json')).body;
const ops: Op[] = Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path: p })));
/** OpenAPI `{id}` to a concrete path. */
const concrete = (p: string) => p.replace(/\{[^}]+\}/g, '1');

t.test('every route but /health and /ready refuses anonymous callers with 401', async (t) => {
  t.ok(ops.length > 25, `the OpenAPI document lists the routes (${ops.length})`);
  for (const op of ops) {
    const res = await app.inject({ method: op.method as 'GET', url: concrete(op.path), headers: { authorization: '' }, remoteAddress: '192.0.2.10' });
    if (op.path === '/health' || op.path === '/ready') {
      t.not(res.statusCode, 401, `${op.method} ${op.path} is public`);
      continue;
    }
    t.equal(res.statusCode, 401, `${op.method} ${op.path}`);
    t.equal(res.json().code, 'VIGIE_ERR_UNAUTHENTICATED');
    t.match(res.headers['www-authenticate'], /^Bearer realm="vigie"/);
  }
  for (const url of ['/docs', '/docs/json', '/docs/static/index.html', '/api/v1/no-such-route']) {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: '' } });
    t.equal(res.statusCode, 401, url);
  }
  // Browsers get a Basic challenge on the documentation: the token goes in the password field.
  t.match((await app.inject({ method: 'GET', url: '/docs', headers: { authorization: '' } })).headers['www-authenticate'], /Basic realm="vigie"/);
  const basic = await app.inject({ method: 'GET', url: '/docs/json', headers: { authorization: `Basic ${Buffer.from(`me:${TEST_ADMIN_TOKEN}`).toString('base64')}` } });
  t.equal(basic.statusCode, 200, 'Basic with the token as password opens the documentation');
  const wrong = await app.inject({ method: 'GET', url: '/api/v1/devices', headers: bearer('vgt_0123456789_' + 'x'.repeat(43)) });
  t.equal(wrong.statusCode, 401);
  t.match(wrong.headers['www-authenticate'], /error="invalid_token"/);
});

t.test('/metrics: open from loopback, token from elsewhere (VIGIE_METRICS_ACCESS=loopback)', async (t) => {
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: '' }, remoteAddress: '127.0.0.1' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: '' }, remoteAddress: '10.1.2.3' })).statusCode, 401);
  t.equal((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' })).statusCode, 200, 'with a token');
});

t.test('refusals are counted on /metrics', async (t) => {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const count = (status: string) => Number(new RegExp(`^vigie_auth_refusals_total\\{status="${status}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  t.ok(count('401') >= ops.length - 2, `401 refusals counted (${count('401')})`);
});

t.test('roles: each gets 403 outside what it may do', async (t) => {
  const viewer = await createTestToken(pool, 'viewer');
  const operator = await createTestToken(pool, 'operator');
  const engineer = await createTestToken(pool, 'engineer');
  const integration = await createTestToken(pool, 'integration');
  const call = (token: string, method: string, url: string, payload?: object) => app.inject({ method: method as 'GET', url, headers: bearer(token), ...(payload ? { payload } : {}) });
  const silence = { scope: {}, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString(), reason: 'travaux', createdBy: 'x' };
  const rule = { id: 'role-test', name: 'x', severity: 'info', condition: { type: 'threshold', metric: 'co2', op: 'above', value: 5000 } };

  t.equal((await call(viewer.token, 'GET', '/api/v1/devices')).statusCode, 200, 'viewer reads');
  t.equal((await call(viewer.token, 'POST', '/api/v1/silences', silence)).statusCode, 403, 'viewer cannot silence');
  t.equal((await call(viewer.token, 'POST', '/api/v1/alerts/1/ack', { user: 'x' })).statusCode, 403, 'viewer cannot acknowledge');
  const denied = await call(viewer.token, 'POST', '/api/v1/rules', rule);
  t.equal(denied.json().code, 'VIGIE_ERR_FORBIDDEN');

  t.equal((await call(operator.token, 'POST', '/api/v1/alerts/999999/ack', { user: 'x' })).statusCode, 404, 'operator may acknowledge (no such alert)');
  t.equal((await call(operator.token, 'POST', '/api/v1/silences', silence)).statusCode, 201, 'operator silences');
  t.equal((await call(operator.token, 'POST', '/api/v1/rules', rule)).statusCode, 403, 'operator cannot write rules');
  t.equal((await call(operator.token, 'POST', '/api/v1/dead-letters/replay', {})).statusCode, 403, 'operator cannot replay');

  t.equal((await call(engineer.token, 'POST', '/api/v1/rules', rule)).statusCode, 201, 'engineer writes rules');
  t.equal((await call(engineer.token, 'POST', '/api/v1/dead-letters/replay', {})).statusCode, 200, 'engineer replays');
  t.equal((await call(engineer.token, 'GET', '/api/v1/tokens')).statusCode, 403, 'engineer cannot list tokens');
  t.equal((await call(engineer.token, 'GET', '/api/v1/audit')).statusCode, 403, 'engineer cannot read the audit log');
  t.equal((await call(engineer.token, 'POST', '/api/v1/tokens', { role: 'admin' })).statusCode, 403, 'engineer cannot mint tokens');

  t.equal((await call(integration.token, 'GET', '/api/v1/devices')).statusCode, 403, 'integration reads nothing');
  const ngsi = { subscriptionId: 's', data: [{ id: 'urn:ngsi-ld:IndoorEnvironmentObserved:x', type: 'IndoorEnvironmentObserved', dateObserved: new Date().toISOString(), temperature: 20 }] };
  t.equal((await call(integration.token, 'POST', '/ngsi/notify', ngsi)).statusCode, 200, 'integration publishes');
  t.equal((await call(viewer.token, 'POST', '/ngsi/notify', ngsi)).statusCode, 403, 'viewer does not publish');
  t.equal((await call(engineer.token, 'GET', '/api/v1/whoami')).json().role, 'engineer');
});

t.test('tokens through the API: shown once, stored hashed, revoked or expired stop at once, last use throttled', async (t) => {
  const created = await app.inject({ method: 'POST', url: '/api/v1/tokens', payload: { name: 'astreinte', role: 'operator', domains: ['roads'], expiresInDays: 30 } });
  t.equal(created.statusCode, 201);
  const { token, item } = created.json() as { token: string; item: { id: string; domains: unknown; expiresAt: string } };
  t.match(token, /^vgt_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
  t.same(item.domains, [{ domain: 'roads' }]);
  t.ok(item.expiresAt);
  const list = await tp.get<{ items: Array<{ id: string }> }>('/api/v1/tokens');
  t.ok(list.body.items.some((i) => i.id === item.id));
  t.notOk(JSON.stringify(list.body).includes(token.slice(15)), 'listings never show the secret');
  const { rows } = await pool.query('select * from api_tokens where id = $1', [item.id]);
  t.notOk(JSON.stringify(rows).includes(token.slice(15)), 'the database holds no plaintext');

  const who = await tp.get<{ subject: string; role: string }>('/api/v1/whoami', token);
  t.same([who.status, who.body.subject, who.body.role], [200, `token:${item.id}`, 'operator']);

  // Last use: written at the first use, not again within VIGIE_TOKEN_TOUCH_MS.
  const lastUsed = async () => (await pool.query('select last_used_at from api_tokens where id = $1', [item.id])).rows[0].last_used_at as Date | null;
  let first: Date | null = null;
  for (let i = 0; i < 50 && !first; i++) {
    first = await lastUsed();
    if (!first) await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(first, 'last use recorded');
  for (let i = 0; i < 5; i++) await tp.get('/api/v1/whoami', token);
  await new Promise((r) => setTimeout(r, 100));
  t.equal((await lastUsed())!.getTime(), first!.getTime(), 'not rewritten at every request');

  const revoked = await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${item.id}` });
  t.equal(revoked.statusCode, 204);
  t.equal((await tp.get('/api/v1/whoami', token)).status, 401, 'revoked: refused at the next request');
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${item.id}` })).statusCode, 404);

  const soon = await createTestToken(pool, 'viewer');
  t.equal((await tp.get('/api/v1/whoami', soon.token)).status, 200);
  await pool.query(`update api_tokens set expires_at = now() - interval '1 second' where id = $1`, [soon.id]);
  t.equal((await tp.get('/api/v1/whoami', soon.token)).status, 401, 'expired: refused at the next request');

  const bad = await app.inject({ method: 'POST', url: '/api/v1/tokens', payload: { role: 'viewer', domains: ['motorways'] } });
  t.equal(bad.statusCode, 400);
  const past = await app.inject({ method: 'POST', url: '/api/v1/tokens', payload: { role: 'viewer', expiresAt: '2020-01-01T00:00:00Z' } });
  t.equal(past.statusCode, 400);
  // A domain-limited admin cannot mint a token wider than itself.
  const roadsAdmin = await createTestToken(pool, 'admin', ['roads']);
  const wider = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(roadsAdmin.token), payload: { role: 'viewer' } });
  t.equal(wider.statusCode, 403);
});

t.test('every write route leaves an audit entry (who, what, when, from where), never a secret', async (t) => {
  const writes = ops.filter((o) => !['GET', 'HEAD', 'OPTIONS'].includes(o.method));
  t.ok(writes.length >= 10, `write routes: ${writes.map((w) => `${w.method} ${w.path}`).join(', ')}`);
  const engineer = await createTestToken(pool, 'engineer');
  const since = (await pool.query('select coalesce(max(id), 0) as id from audit_log')).rows[0].id as number;
  for (const op of writes) {
    // Bodies may be refused (400) or objects absent (404): the attempt is still audited.
    await app.inject({ method: op.method as 'POST', url: concrete(op.path), headers: { ...bearer(engineer.token), 'user-agent': 'audit-test' }, payload: {}, remoteAddress: '198.51.100.7' });
  }
  const { rows } = await pool.query('select * from audit_log where id > $1 order by id', [since]);
  for (const op of writes) {
    const action = `${op.method} ${op.path.replace(/\{([^}]+)\}/g, ':$1')}`;
    const entry = rows.find((r) => r.action === action);
    t.ok(entry, `audited: ${action}`);
    if (!entry) continue;
    t.same([entry.subject, entry.role, entry.token_id, entry.source, entry.user_agent], [`token:${engineer.id}`, 'engineer', engineer.id, '198.51.100.7', 'audit-test'], action);
    t.type(entry.status, 'number');
    t.ok(entry.at instanceof Date);
  }
  // Readable by admins through the API, filtered by subject.
  const audit = await tp.get<{ items: Array<{ subject: string; action: string }> }>(`/api/v1/audit?subject=${encodeURIComponent(`token:${engineer.id}`)}&limit=1000`);
  t.equal(audit.status, 200);
  t.equal(audit.body.items.length, writes.length);

  // A token created through the API: the audit entry names it, never holds it.
  const created = await app.inject({ method: 'POST', url: '/api/v1/tokens', payload: { role: 'viewer', name: 'secret-check' } });
  const { token, item } = created.json() as { token: string; item: { id: string } };
  const all = await pool.query('select * from audit_log');
  const text = JSON.stringify(all.rows);
  t.notOk(text.includes(token), 'no token in the audit log');
  t.notOk(text.includes(TEST_ADMIN_TOKEN), 'no admin token in the audit log');
  t.ok(all.rows.some((r) => r.action === 'POST /api/v1/tokens' && r.target.tokenId === item.id));
});

t.test('the OpenAPI document carries no secret, and declares the bearer scheme', async (t) => {
  const res = await tp.get<Record<string, unknown>>('/docs/json');
  const text = JSON.stringify(res.body);
  t.notOk(text.includes(TEST_ADMIN_TOKEN));
  t.notOk(text.includes(tp.env.DATABASE_URL!));
  t.match(res.body, { components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } } });
});

t.test('security headers on, CORS off by default, body size limited', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/v1/devices', headers: { origin: 'https://evil.example' } });
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.ok(res.headers['content-security-policy']);
  t.notMatch(String(res.headers['content-security-policy']), /upgrade-insecure-requests/, 'plain HTTP: no upgrade of the page\'s requests');
  const ui = await app.inject({ method: 'GET', url: '/docs' });
  t.equal(ui.statusCode, 200);
  t.notMatch(String(ui.headers['content-security-policy']), /upgrade-insecure-requests/);
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
  t.notOk(res.headers['access-control-allow-origin'], 'no CORS header');
  const big = await app.inject({ method: 'POST', url: '/api/v1/rules', headers: { 'content-type': 'application/json' }, payload: `{"x":"${'a'.repeat(1024 * 1024 + 10)}"}` });
  t.equal(big.statusCode, 413);
});
