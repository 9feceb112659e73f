/**
 * Exposure rules and transport: no identity means loopback only (another address refused),
 * TLS with a self-signed certificate, rate limits on failed authentications per address and
 * on requests per identity, CORS when configured, secrets redacted from logs.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { createToken } from '../../services/auth/tokens.ts';
import { loadConfig } from '../../services/config.ts';
import { REDACT } from '../../services/logger.ts';
import { bearer, createTestToken } from '../helpers/auth.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startChildPlatform } from '../helpers/child-platform.ts';
import { startTestPlatform, TEST_ADMIN_TOKEN, TEST_MQTT_URL } from '../helpers/platform.ts';

t.test('the API listens on loopback unless told otherwise', async (t) => {
  t.equal(loadConfig({}).http.host, '127.0.0.1');
});

t.test('no identity configured: another address is refused, loopback starts and refuses every request', async (t) => {
  const db = await createTestDatabase();
  t.teardown(() => db.drop());
  await t.rejects(startTestPlatform({ db, env: { VIGIE_ADMIN_TOKEN: '', VIGIE_HTTP_HOST: '0.0.0.0' } }), {
    code: 'VIGIE_ERR_NO_AUTH',
    message: /VIGIE_ADMIN_TOKEN.*vigie token create.*VIGIE_OIDC_ISSUER/,
  });
  const tp = await startTestPlatform({ db, env: { VIGIE_ADMIN_TOKEN: '' } });
  t.equal((await tp.platform.app.inject({ method: 'GET', url: '/api/v1/devices' })).statusCode, 401, 'nobody can read');
  t.equal((await tp.platform.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  // A token created meanwhile (as `vigie token create` does) works at once.
  const { token } = await createToken(tp.platform.pool, { name: 'x', role: 'viewer', domains: 'all', createdBy: 'test' });
  t.equal((await tp.platform.app.inject({ method: 'GET', url: '/api/v1/devices', headers: bearer(token) })).statusCode, 200);
  await tp.stop();
  // Now a token exists: exposing the API is allowed.
  const exposed = await startTestPlatform({ db, env: { VIGIE_ADMIN_TOKEN: '', VIGIE_HTTP_HOST: '0.0.0.0' } });
  t.match(exposed.platform.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  await exposed.stop();
});

t.test('vigie start: says it stays on loopback, refuses to expose an unprotected API', async (t) => {
  const db = await createTestDatabase();
  t.teardown(() => db.drop());
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIGIE_') && k !== 'DATABASE_URL' && k !== 'MQTT_URL'));
  const env = { DATABASE_URL: db.url, MQTT_URL: TEST_MQTT_URL, VIGIE_TOPIC_PREFIX: `t${Date.now()}/`, VIGIE_MQTT_CLIENT_ID: `v${Date.now()}`.slice(0, 23), VIGIE_RULES_DIR: 'rules' };
  const refused = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, ['bin/vigie.js', 'start'], { env: { ...clean, ...env, VIGIE_HTTP_HOST: '0.0.0.0', VIGIE_HTTP_PORT: '0' }, timeout: 120_000 }, (err, _o, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
  t.equal(refused.code, 1);
  t.match(refused.stderr, /refusing to listen on 0\.0\.0\.0 with no way to authenticate: set VIGIE_ADMIN_TOKEN, create a token with "vigie token create --role admin", or configure VIGIE_OIDC_ISSUER/);
  const child = await startChildPlatform({ ...env, VIGIE_ADMIN_TOKEN: '' });
  t.teardown(async () => {
    child.child.kill('SIGTERM');
    await child.exited;
  });
  t.match(child.output(), /no identity configured.*listening on loopback only/);
  t.equal((await fetch(`${child.url}/api/v1/devices`)).status, 401);
});

t.test('TLS with a self-signed certificate', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const tp = await startTestPlatform({ env: { VIGIE_HTTP_TLS_CERT: cert, VIGIE_HTTP_TLS_KEY: key } });
  t.teardown(() => tp.stop());
  t.match(tp.platform.httpUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  const get = (url: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      https
        .get(url, { ca: readFileSync(cert), headers }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        })
        .on('error', reject);
    });
  t.equal((await get(`${tp.platform.httpUrl}/health`)).status, 200);
  const who = await get(`${tp.platform.httpUrl}/api/v1/whoami`, bearer(TEST_ADMIN_TOKEN));
  t.equal(who.status, 200);
  t.match(who.headers['strict-transport-security'], /max-age=/);
  t.equal((await get(`${tp.platform.httpUrl}/api/v1/whoami`)).status, 401);
  await t.rejects(fetch(tp.platform.httpUrl.replace('https:', 'http:') + '/health'), 'plain HTTP is not spoken');
  await t.rejects(
    new Promise((resolve, reject) => https.get(`${tp.platform.httpUrl}/health`, resolve).on('error', reject)),
    'an unknown certificate is refused by a verifying client',
  );
  t.throws(() => loadConfig({ VIGIE_HTTP_TLS_CERT: cert }), /go together/);
});

t.test('rate limits: failed authentications per address, requests per identity', async (t) => {
  const tp = await startTestPlatform({ env: { VIGIE_HTTP_AUTH_FAILURES: '3', VIGIE_HTTP_RATE_LIMIT: '5', VIGIE_HTTP_CORS_ORIGINS: 'https://console.cd.example' } });
  t.teardown(() => tp.stop());
  const app = tp.platform.app;
  const from = (remoteAddress: string, headers: Record<string, string>) => app.inject({ method: 'GET', url: '/api/v1/whoami', remoteAddress, headers });
  for (let i = 0; i < 3; i++) t.equal((await from('203.0.113.5', bearer(`wrong-token-${i}-xxxxxxxxxxxx`))).statusCode, 401);
  const blocked = await from('203.0.113.5', bearer(TEST_ADMIN_TOKEN));
  t.equal(blocked.statusCode, 429, 'past the failures, even a good token waits');
  t.equal(blocked.json().code, 'VIGIE_ERR_AUTH_RATE_LIMITED');
  t.ok(Number(blocked.headers['retry-after']) > 0);
  t.equal((await from('203.0.113.6', bearer(TEST_ADMIN_TOKEN))).statusCode, 200, 'another address is not affected');

  const a = await createTestToken(tp.platform.pool, 'viewer');
  const b = await createTestToken(tp.platform.pool, 'viewer');
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) codes.push((await from(`198.51.100.${i + 1}`, bearer(a.token))).statusCode);
  t.same(codes, [200, 200, 200, 200, 200, 429], 'per identity, whatever the address');
  const limited = await from('198.51.100.9', bearer(a.token));
  t.equal(limited.json().code, 'VIGIE_ERR_RATE_LIMITED');
  t.equal((await from('198.51.100.1', bearer(b.token))).statusCode, 200, 'another identity has its own budget');
  t.equal((await app.inject({ method: 'GET', url: '/health', remoteAddress: '203.0.113.5' })).statusCode, 200, 'probes are never limited');

  // CORS: the configured origin only; the preflight needs no credentials.
  const pre = await app.inject({ method: 'OPTIONS', url: '/api/v1/devices', headers: { origin: 'https://console.cd.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' }, remoteAddress: '192.0.2.1' });
  t.equal(pre.statusCode, 204);
  t.equal(pre.headers['access-control-allow-origin'], 'https://console.cd.example');
  t.match(String(pre.headers['access-control-allow-headers']), /authorization/);
  const other = await app.inject({ method: 'OPTIONS', url: '/api/v1/devices', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' }, remoteAddress: '192.0.2.1' });
  t.notOk(other.headers['access-control-allow-origin']);
});

t.test('secrets are redacted from logs by path', async (t) => {
  let out = '';
  const sink = new Writable({ write: (c, _e, cb) => ((out += c), cb()) });
  const log = pino({ redact: { paths: REDACT, censor: '***' } }, sink);
  const config = loadConfig({ VIGIE_ADMIN_TOKEN: 'admin-secret-value-123', DATABASE_URL: 'postgres://vigie:db-secret-pw@db:5432/vigie', VIGIE_ALERT_WEBHOOK_SECRET: 'hook-secret-456', MQTT_PASSWORD: 'mqtt-secret-789' });
  log.info({ config }, 'config');
  log.info({ req: { headers: { authorization: 'Bearer tok-secret-000', cookie: 'sid=cookie-secret' } } }, 'request');
  log.info({ token: 'tok-secret-111', secret: 'tok-secret-222', databaseUrl: 'postgres://x:db-secret-pw@h/d' }, 'misc');
  for (const s of ['admin-secret-value-123', 'db-secret-pw', 'hook-secret-456', 'mqtt-secret-789', 'tok-secret', 'cookie-secret']) t.notOk(out.includes(s), s);
  t.match(out, /\*\*\*/);
});
