/**
 * OpenID Connect against a real local identity provider stand-in: a node:http server on
 * 127.0.0.1 serving a discovery document and a JWKS of generated keys, as Keycloak does at
 * /realms/<realm>/.well-known/openid-configuration and .../protocol/openid-connect/certs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import t from 'tap';
import { claimAt, roleFromClaim } from '../../services/auth/oidc.ts';
import { bearer } from '../helpers/auth.ts';
import { startTestPlatform } from '../helpers/platform.ts';

type Key = { kid: string; privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; jwk: JWK };
async function newKey(kid: string, alg = 'RS256'): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

let published: Key[] = [await newKey('k1')];
let jwksFetches = 0;
const server = http.createServer((req, res) => {
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/cd`;
  if (req.url === '/realms/cd/.well-known/openid-configuration') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/protocol/openid-connect/certs` }));
  } else if (req.url === '/realms/cd/protocol/openid-connect/certs') {
    jwksFetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
  } else {
    res.statusCode = 404;
    res.end();
  }
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/cd`;

const tp = await startTestPlatform({
  env: {
    VIGIE_OIDC_ISSUER: issuer,
    VIGIE_OIDC_AUDIENCE: 'vigie-api',
    VIGIE_OIDC_JWKS_COOLDOWN_MS: '0',
    VIGIE_HTTP_AUTH_FAILURES: '0',
  },
});
t.teardown(async () => {
  await tp.stop();
  if (server.listening) server.close();
});

interface Claims {
  roles?: string[];
  domains?: string[] | string;
  aud?: string;
  iss?: string;
  exp?: number;
  extra?: Record<string, unknown>;
}
async function jwt(key: Key, c: Claims = {}, kid = key.kid): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    preferred_username: 'm.martin',
    realm_access: { roles: c.roles ?? ['offline_access', 'vigie-operator'] },
    ...(c.domains !== undefined ? { vigie_domains: c.domains } : { vigie_domains: ['buildings'] }),
    ...(c.extra ?? {}),
  })
    .setProtectedHeader({ alg: key.jwk.alg!, kid, typ: 'JWT' })
    .setSubject('5f2c-user')
    .setIssuer(c.iss ?? issuer)
    .setAudience(c.aud ?? 'vigie-api')
    .setIssuedAt(now)
    .setExpirationTime(c.exp ?? now + 300)
    .sign(key.privateKey);
}
const whoami = (token: string) => tp.platform.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: bearer(token) });

t.test('a JWT from the issuer is an identity: role and domains from the claims', async (t) => {
  const res = await whoami(await jwt(published[0]!));
  t.equal(res.statusCode, 200, res.body);
  t.same(res.json(), { subject: 'oidc:m.martin', role: 'operator', domains: [{ domain: 'buildings' }], via: 'oidc', tokenId: null, name: null });
  const admin = await whoami(await jwt(published[0]!, { roles: ['vigie-viewer', 'vigie-admin'], domains: '*' }));
  t.same([admin.json().role, admin.json().domains], ['admin', 'all'], 'the strongest role wins');
  const narrow = await whoami(await jwt(published[0]!, { domains: ['roads:RD910', 'roads:RD400'] }));
  t.same(narrow.json().domains, [{ domain: 'roads', routes: ['RD400', 'RD910'] }]);
  // The role is enforced like a token's.
  const rule = { id: 'oidc-rule', name: 'x', severity: 'info', scope: { domain: 'buildings' }, condition: { type: 'threshold', metric: 'co2', op: 'above', value: 5000 } };
  const post = await tp.platform.app.inject({ method: 'POST', url: '/api/v1/rules', headers: bearer(await jwt(published[0]!)), payload: rule });
  t.equal(post.statusCode, 403, 'an operator cannot write rules');
  const audit = await tp.platform.pool.query(`select subject from audit_log where action = 'POST /api/v1/rules' order by id desc limit 1`);
  t.equal(audit.rows[0].subject, 'oidc:m.martin', 'the audit log names the user');
});

t.test('forged, wrongly signed or mis-addressed JWTs are refused', async (t) => {
  const good = published[0]!;
  const stranger = await newKey('k1'); // same kid, another key: a forgery
  t.equal((await whoami(await jwt(stranger))).statusCode, 401, 'signed by another key under a known kid');
  const [h, p] = (await jwt(good)).split('.');
  const tampered = JSON.parse(Buffer.from(p!, 'base64url').toString());
  tampered.realm_access.roles = ['vigie-admin'];
  t.equal((await whoami(`${h}.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.${(await jwt(good)).split('.')[2]}`)).statusCode, 401, 'payload changed after signing');
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
  t.equal((await whoami(none)).statusCode, 401, 'alg none');
  const { createHmac } = await import('node:crypto');
  const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'k1', typ: 'JWT' })).toString('base64url');
  const hsSig = createHmac('sha256', JSON.stringify(good.jwk)).update(`${hsHeader}.${p}`).digest('base64url');
  t.equal((await whoami(`${hsHeader}.${p}.${hsSig}`)).statusCode, 401, 'HMAC keyed with the public key');
  t.equal((await whoami(await jwt(good, { aud: 'another-client' }))).statusCode, 401, 'wrong audience');
  t.equal((await whoami(await jwt(good, { iss: 'http://127.0.0.1:1/realms/evil' }))).statusCode, 401, 'wrong issuer');
  t.equal((await whoami(await jwt(good, { exp: Math.floor(Date.now() / 1000) - 3600 }))).statusCode, 401, 'expired');
  const norole = await whoami(await jwt(good, { roles: ['offline_access'] }));
  t.same([norole.statusCode, norole.json().code], [403, 'VIGIE_ERR_FORBIDDEN'], 'no Vigie role');
  t.equal((await whoami(await jwt(good, { domains: ['motorways'] }))).statusCode, 403, 'unknown domain');
  const nodomain = await new SignJWT({ realm_access: { roles: ['vigie-viewer'] } }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setAudience('vigie-api').setSubject('x').setExpirationTime('5m').sign(good.privateKey);
  t.equal((await whoami(nodomain)).statusCode, 403, 'no domains claim and no VIGIE_OIDC_DEFAULT_DOMAINS: refused');
});

t.test('key rotation: a new kid is fetched from the JWKS; a removed key stops working', async (t) => {
  const old = published[0]!;
  const next = await newKey('k2', 'ES256');
  const before = jwksFetches;
  published = [old, next];
  t.equal((await whoami(await jwt(next))).statusCode, 200, 'new key picked up');
  t.ok(jwksFetches > before, 'the key set was fetched again');
  published = [next];
  const oldToken = await jwt(old);
  // The cached set still holds k1 until it is fetched again: a new unknown kid triggers that.
  const third = await newKey('k3');
  published = [next, third];
  t.equal((await whoami(await jwt(third))).statusCode, 200);
  t.equal((await whoami(oldToken)).statusCode, 401, 'the retired key is gone from the set');
});

t.test('identity provider away: 503, not a refusal of the caller', async (t) => {
  const key = await newKey('k-unseen');
  const token = await jwt(key); // unknown kid: the key set must be fetched, and cannot be
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  const res = await whoami(token);
  t.same([res.statusCode, res.json().code], [503, 'VIGIE_ERR_IDP_UNAVAILABLE']);
  t.match(res.json().message, /identity provider unreachable/);
});

t.test('API tokens keep working beside OpenID Connect', async (t) => {
  t.equal((await tp.get('/api/v1/whoami')).status, 200);
});

t.test('claims: Keycloak realm and client roles', async (t) => {
  const payload = { realm_access: { roles: ['vigie-viewer'] }, resource_access: { 'vigie-api': { roles: ['engineer'] } } };
  t.same(claimAt(payload, 'realm_access.roles'), ['vigie-viewer']);
  t.same(claimAt(payload, 'resource_access."vigie-api".roles'), ['engineer']);
  t.equal(roleFromClaim(['engineer', 'viewer'], ''), 'engineer');
  t.equal(roleFromClaim(['vigie-integration'], 'vigie-'), 'integration');
  t.equal(roleFromClaim(['admin'], 'vigie-'), null, 'prefix required');
});
