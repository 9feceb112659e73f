/**
 * The embedded broker with authentication on (pinned): devices publish only as themselves,
 * gateways only under their application or edge node, nobody but Vigie publishes alert events
 * or Sparkplug commands or uses Vigie's client ids, and every refusal is counted in /metrics.
 * Real aedes broker, real PostgreSQL, real MQTT clients.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import t from 'tap';
import { createToken, revokeToken } from '../services/auth/index.ts';
import { createCredential, revokeCredentials } from '../services/broker-auth/store.ts';
import { startTestPlatform, type TestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

// API tokens are the HTTP side's own (services/auth), checked by the broker through the
// composition root's default verifier: real tokens, created and revoked in the database.
const tp = await startTestPlatform({ embeddedBroker: true, env: { VIGIE_MQTT_AUTH: 'on', VIGIE_MQTT_AUTH_CACHE_SECONDS: '1' } });
const adminToken = await createToken(tp.platform.pool, { name: 'ops admin', role: 'admin', domains: 'all', createdBy: 'test' });
const viewerToken = await createToken(tp.platform.pool, { name: 'ops viewer', role: 'viewer', domains: 'all', createdBy: 'test' });
const ADMIN_TOKEN = adminToken.token;
const VIEWER_TOKEN = viewerToken.token;
t.teardown(() => tp.stop());
const P = tp.prefix;
const open: MqttClient[] = [];
t.teardown(async () => {
  for (const c of open) await c.endAsync(true).catch(() => {});
});

async function connect(options: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(tp.platform.mqttUrl, { clientId: `c-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  open.push(c);
  return c;
}

/** CONNACK refusal: the promise rejects with the broker's return code. */
async function refusedConnect(options: IClientOptions): Promise<number | undefined> {
  try {
    const c = await connect(options);
    await c.endAsync(true);
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

/** A refused PUBLISH closes the connection (MQTT 3.1.1 §3.3.5); resolves once it is closed. */
function publishAndExpectClose(c: MqttClient, topic: string, payload: string, retain = false): Promise<void> {
  return new Promise((resolve) => {
    c.once('close', () => resolve());
    c.publish(topic, payload, { qos: 0, retain });
  });
}

/** SUBACK return code of one subscription (0x80 = refused, MQTT 3.1.1 §3.9.3). */
async function subscribeCode(c: MqttClient, filter: string): Promise<number | undefined> {
  try {
    return (await c.subscribeAsync(filter, { qos: 1 }))[0]?.qos;
  } catch (err) {
    return (err as { packet?: { granted?: number[] } }).packet?.granted?.[0];
  }
}

async function metrics(platform: TestPlatform): Promise<string> {
  const res = await platform.platform.app.inject({ method: 'GET', url: '/metrics' });
  return res.body;
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const values = async (device: string) =>
  (await tp.platform.pool.query<{ value: number }>(`select value from observations where device_id = $1 order by time`, [device])).rows.map((r) => r.value);

const reading = (v: number) => JSON.stringify({ ts: new Date().toISOString(), metrics: { air_temperature: v } });

const devA = await createCredential(tp.platform.pool, { kind: 'device', username: 'auth-dev-a' });
const devB = await createCredential(tp.platform.pool, { kind: 'device', username: 'auth-dev-b' });
const asA = { username: 'auth-dev-a', password: devA.secret };
const asB = { username: 'auth-dev-b', password: devB.secret };

t.test('an API token could log in at start (the platform VIGIE_ADMIN_TOKEN): the broker listens on every interface', async (t) => {
  t.equal(tp.platform.broker?.host, '0.0.0.0');
});

t.test('a device publishing under another device topic is refused; the victim data is unchanged', async (t) => {
  const b = await connect(asB);
  await b.publishAsync(`${P}vigie/auth-dev-b/telemetry`, reading(4.5), { qos: 1 });
  await waitFor(async () => (await values('auth-dev-b')).length === 1, 15_000, 'the genuine reading');

  const a = await connect(asA);
  await publishAndExpectClose(a, `${P}vigie/auth-dev-b/telemetry`, reading(-40));
  t.ok(a.disconnected || !a.connected, 'the broker closed the forging connection');

  // Own topic: allowed, stored.
  const a2 = await connect(asA);
  await a2.publishAsync(`${P}vigie/auth-dev-a/telemetry`, reading(12), { qos: 1 });
  await b.publishAsync(`${P}vigie/auth-dev-b/telemetry`, reading(5), { qos: 1 });
  await waitFor(async () => (await values('auth-dev-b')).length === 2 && (await values('auth-dev-a')).length === 1, 15_000, 'later readings');
  t.same(await values('auth-dev-b'), [4.5, 5], 'the victim has only its own readings');
  t.same(await values('auth-dev-a'), [12], 'the device stores under its own id');

  const text = await metrics(tp);
  t.equal(metric(text, 'vigie_mqtt_publish_refused_total', 'account="auth-dev-a"'), 1, 'the refusal is counted against the account');
});

t.test('wrong password, unknown user and anonymous clients are refused', async (t) => {
  t.equal(await refusedConnect({ username: 'auth-dev-a', password: `${devA.secret}x` }), 4, 'wrong password: CONNACK 4 (bad user name or password)');
  t.equal(await refusedConnect({ username: 'nobody', password: 'secret' }), 4, 'unknown user');
  t.equal(await refusedConnect({}), 5, 'anonymous: CONNACK 5 (not authorized)');
  t.equal(await refusedConnect({ username: 'auth-dev-a', password: devB.secret }), 4, "another device's secret does not open this account");
  const text = await metrics(tp);
  t.ok(metric(text, 'vigie_mqtt_connect_refused_total', 'reason="bad_credentials"') >= 3);
  t.ok(metric(text, 'vigie_mqtt_connect_refused_total', 'reason="no_credentials"') >= 1);
});

t.test("a client claiming Vigie's client id is refused and the ingest keeps its session", async (t) => {
  const ingestId = tp.platform.config.mqtt.clientId;
  t.equal(await refusedConnect({ ...asA, clientId: ingestId, clean: false }), 5, 'the ingest client id');
  t.equal(await refusedConnect({ ...asA, clientId: 'vigie-ingest', clean: false }), 5, 'any vigie-… client id');
  t.ok(tp.platform.ingest.source.connected, 'the ingest is still connected');
  const a = await connect(asA);
  await a.publishAsync(`${P}vigie/auth-dev-a/telemetry`, reading(13), { qos: 1 });
  await waitFor(async () => (await values('auth-dev-a')).includes(13), 15_000, 'the next reading stored by the ingest');
  t.ok(metric(await metrics(tp), 'vigie_mqtt_connect_refused_total', 'reason="reserved_client_id"') >= 2);
});

t.test('a device cannot take over a client id another account holds', async (t) => {
  const b = await connect({ ...asB, clientId: 'auth-b-session' });
  t.equal(await refusedConnect({ ...asA, clientId: 'auth-b-session' }), 5);
  t.ok(b.connected, 'the holder stays connected');
});

t.test('forged alert events and Sparkplug commands are refused', async (t) => {
  const integration = await tp.publisher({ reconnectPeriod: 0 });
  const resolved = JSON.stringify({ type: 'alert.resolved', alert: { id: 1, ruleId: 'ice-alarm', deviceId: 'rws-1' } });
  await publishAndExpectClose(integration, `${P}vigie/alerts/ice-alarm/rws-1`, resolved, true);

  const edge = await createCredential(tp.platform.pool, { kind: 'gateway', username: 'auth-edge', scopes: { tts: [], chirpstack: [], sparkplug: ['school/gtb'], ngsi: false } });
  const node = await connect({ username: 'auth-edge', password: edge.secret });
  await publishAndExpectClose(node, `${P}spBv1.0/school/NCMD/gtb`, 'rebirth');
  const node2 = await connect({ username: 'auth-edge', password: edge.secret });
  await publishAndExpectClose(node2, `${P}spBv1.0/other/NCMD/plc`, 'rebirth');
  const integration2 = await tp.publisher({ reconnectPeriod: 0 });
  await publishAndExpectClose(integration2, `${P}spBv1.0/school/DCMD/gtb/room`, 'write');

  // Nothing retained under the alert root: a reader sees no forged event.
  const reader = await tp.publisher();
  const seen: string[] = [];
  reader.on('message', (topic) => seen.push(topic));
  const granted = await reader.subscribeAsync(`${P}vigie/alerts/#`, { qos: 1 });
  t.equal(granted[0]?.qos, 1, 'an integration may read alert events');
  await new Promise((r) => setTimeout(r, 500));
  t.same(seen, [], 'no retained forged alert');

  const text = await metrics(tp);
  t.equal(metric(text, 'vigie_mqtt_publish_refused_total', 'account="auth-edge"'), 2, 'both NCMD attempts counted');
  t.ok(metric(text, 'vigie_mqtt_publish_refused_total', `account="test-publisher-${tp.prefix.slice(1, 9)}"`) >= 2, 'alert and DCMD attempts counted');
});

t.test('subscriptions are checked: not #, not another device, own topics yes', async (t) => {
  const a = await connect(asA);
  t.equal(await subscribeCode(a, '#'), 128, '# is refused (SUBACK 0x80)');
  t.equal(await subscribeCode(a, `${P}vigie/auth-dev-b/telemetry`), 128, "another device's telemetry is refused");
  t.equal(await subscribeCode(a, `${P}vigie/+/telemetry`), 128, 'a wildcard over devices is refused');
  t.equal(await subscribeCode(a, `${P}vigie/auth-dev-a/telemetry`), 1, 'its own topic is granted');
  t.ok(a.connected, 'a refused subscription keeps the connection');
  t.ok(metric(await metrics(tp), 'vigie_mqtt_subscribe_refused_total', 'account="auth-dev-a"') >= 3);
});

t.test('a gateway publishes under its application only; a Sparkplug node under its node only', async (t) => {
  const tts = await createCredential(tp.platform.pool, { kind: 'gateway', username: 'auth-tts', scopes: { tts: ['colleges'], chirpstack: [], sparkplug: [], ngsi: false } });
  const g = await connect({ username: 'auth-tts', password: tts.secret });
  const uplink = JSON.stringify({
    end_device_ids: { device_id: 'auth-lora-1', application_ids: { application_id: 'colleges' } },
    received_at: new Date().toISOString(),
    uplink_message: { f_port: 2, f_cnt: 1, decoded_payload: { temperature: 19.5 } },
  });
  await g.publishAsync(`${P}v3/colleges/devices/auth-lora-1/up`, uplink, { qos: 1 });
  await waitFor(async () => (await values('auth-lora-1')).length > 0, 15_000, 'the uplink stored');
  await publishAndExpectClose(g, `${P}v3/routes/devices/auth-lora-2/up`, uplink);
  const g2 = await connect({ username: 'auth-tts', password: tts.secret });
  await publishAndExpectClose(g2, `${P}vigie/auth-dev-a/telemetry`, reading(1));
  t.same(await values('auth-lora-2'), [], 'nothing from the other application');
  t.equal(metric(await metrics(tp), 'vigie_mqtt_publish_refused_total', 'account="auth-tts"'), 2);
});

t.test('a will outside the account ACL is refused at CONNECT', async (t) => {
  const code = await refusedConnect({ ...asA, will: { topic: `${P}vigie/auth-dev-b/telemetry`, payload: Buffer.from(reading(0)), qos: 1, retain: false } });
  t.equal(code, 5);
});

t.test('revoking a credential disconnects its clients and refuses the next login', async (t) => {
  const tmp = await createCredential(tp.platform.pool, { kind: 'device', username: 'auth-dev-c' });
  const c = await connect({ username: 'auth-dev-c', password: tmp.secret });
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  t.same(await revokeCredentials(tp.platform.pool, { username: 'auth-dev-c' }), [tmp.credential.id]);
  await closed;
  t.pass('the connected client was disconnected by the sweep');
  t.equal(await refusedConnect({ username: 'auth-dev-c', password: tmp.secret }), 4, 'the revoked secret no longer logs in');
});

t.test('an API token with the admin role, as the password with any username, publishes under every ingest topic', async (t) => {
  const c = await connect({ username: 'whoever', password: ADMIN_TOKEN });
  await c.publishAsync(`${P}vigie/auth-token-dev/telemetry`, reading(8), { qos: 1 });
  await c.publishAsync(`${P}spBv1.0/any/NBIRTH/node`, Buffer.from([]), { qos: 1 });
  await waitFor(async () => (await values('auth-token-dev')).length === 1, 15_000, 'the reading');
  await publishAndExpectClose(c, `${P}vigie/alerts/ice-alarm/rws-1`, 'forged');
  t.equal(metric(await metrics(tp), 'vigie_mqtt_publish_refused_total', `account="token:${adminToken.view.id}"`), 1, 'not alert events, though');
  t.equal(await refusedConnect({ username: 'whoever', password: VIEWER_TOKEN }), 4, 'a viewer token is no broker login');

  const held = await connect({ username: 'someone', password: ADMIN_TOKEN });
  const closed = new Promise<void>((resolve) => held.once('close', () => resolve()));
  await revokeToken(tp.platform.pool, adminToken.view.id, 'test'); // revoked on the HTTP side
  await closed;
  t.pass('a client logged in with a token that is no longer valid is disconnected by the sweep');
  t.equal(await refusedConnect({ username: 'someone', password: ADMIN_TOKEN }), 4, 'and cannot log in again');
});
