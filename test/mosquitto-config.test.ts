/**
 * `vigie mosquitto-config` against the machine's real Mosquitto binary: the generated password
 * file (Mosquitto's `$7$` PBKDF2-SHA512 format) and ACL file are loaded by a separate
 * Mosquitto on a free loopback port (the system Mosquitto on 1883 is left alone), Vigie runs
 * against it with its own account, and Mosquitto refuses what the embedded broker refuses.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pg from 'pg';
import t from 'tap';
import { createCredential } from '../services/broker-auth/store.ts';
import { freePort } from '../services/embedded/free-port.ts';
import { createLogger } from '../services/logger.ts';
import { migrate } from '../services/store/migrate.ts';
import { createTestDatabase } from './helpers/database.ts';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const run = promisify(execFile);
const db = await createTestDatabase('mosq');
t.teardown(() => db.drop());
const pool = new pg.Pool({ connectionString: db.url });
t.teardown(() => pool.end());
await migrate(pool, { logger: createLogger('silent') });

const devA = await createCredential(pool, { kind: 'device', username: 'mq-dev-a' });
const devB = await createCredential(pool, { kind: 'device', username: 'mq-dev-b' });
const edge = await createCredential(pool, { kind: 'gateway', username: 'mq-edge', scopes: { tts: [], chirpstack: [], sparkplug: ['school/gtb'], ngsi: false } });
const integ = await createCredential(pool, { kind: 'integration', username: 'mq-partner' });
const vigie = { username: 'vigie-mq', password: randomBytes(24).toString('base64url') };

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-mosq-auth-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const port = await freePort();
const env = { ...process.env, DATABASE_URL: db.url, MQTT_USERNAME: vigie.username, MQTT_PASSWORD: vigie.password, VIGIE_LOG_LEVEL: 'warn' };
const cli = await run(process.execPath, ['bin/vigie.js', 'mosquitto-config', '--out', dir, '--port', String(port), '--host', '127.0.0.1', '--persistence', path.join(dir, 'data')], { env });
const passwd = readFileSync(path.join(dir, 'passwd'), 'utf8');
const conf = readFileSync(path.join(dir, 'mosquitto.conf'), 'utf8');

// Test environment only: as root, Mosquitto would switch to the `mosquitto` user, which cannot
// enter a private temporary directory; this one keeps running as the test's user.
if (os.userInfo().uid === 0) appendFileSync(path.join(dir, 'mosquitto.conf'), '\nuser root\n');
mkdirSync(path.join(dir, 'data'), { recursive: true });
chmodSync(dir, 0o700);
let log = '';
t.teardown(() => { if (process.env.TEST_MOSQUITTO_LOG) process.stderr.write(log); });
const broker = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf'), '-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
broker.stdout!.on('data', (d: Buffer) => (log += d.toString()));
broker.stderr!.on('data', (d: Buffer) => (log += d.toString()));
t.teardown(async () => {
  broker.kill('SIGTERM');
  await new Promise((r) => broker.once('exit', r));
});
const url = `mqtt://127.0.0.1:${port}`;
const open: MqttClient[] = [];
t.teardown(async () => {
  for (const c of open) await c.endAsync(true).catch(() => {});
});
async function connect(options: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options });
  open.push(c);
  return c;
}
async function refused(options: IClientOptions): Promise<number | undefined> {
  try {
    await (await connect(options)).endAsync(true);
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}
await waitFor(async () => (await refused({})) !== undefined, 10_000, `mosquitto on ${url}: ${log.slice(-500)}`);

const tp = await startTestPlatform({ db, prefix: '', env: { MQTT_URL: url, MQTT_USERNAME: vigie.username, MQTT_PASSWORD: vigie.password } });
t.teardown(() => tp.stop());
const values = async (device: string) => (await pool.query<{ value: number }>(`select value from observations where device_id = $1 order by time`, [device])).rows.map((r) => r.value);
const reading = (v: number) => JSON.stringify({ ts: new Date().toISOString(), metrics: { air_temperature: v } });

t.test('the generated files', async (t) => {
  t.match(cli.stdout, /5 accounts/, 'Vigie and four stored accounts written');
  t.notMatch(cli.stdout + cli.stderr, new RegExp(`${devA.secret}|${vigie.password}`), 'no secret printed');

  t.match(passwd, /^mq-dev-a:\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/m, "Mosquitto's $7$ format: iterations, 12-byte salt, 64-byte key, base64");
  t.notMatch(passwd, new RegExp(devA.secret), 'the password file holds no secret');
  t.match(conf, /^allow_anonymous false$/m);
  t.match(conf, /^max_queued_messages 0$/m, 'the loss-free queue settings are kept');
  t.match(conf, /^max_inflight_messages 10000$/m);
  t.match(conf, new RegExp(`^listener ${port} 127\\.0\\.0\\.1$`, 'm'));
});

t.test('anonymous clients and wrong passwords are refused', async (t) => {
  t.equal(await refused({}), 5, 'anonymous: not authorised');
  const wrong = await refused({ username: 'mq-dev-a', password: `${devA.secret}x` });
  t.ok(wrong === 4 || wrong === 5, `wrong password refused (CONNACK ${wrong})`);
  const swapped = await refused({ username: 'mq-dev-a', password: devB.secret });
  t.ok(swapped === 4 || swapped === 5, "another device's password refused");
  t.equal(await refused({ username: 'mq-dev-a', password: devA.secret }), undefined, 'the right password logs in');
});

t.test("a device publishing under another device's topic is dropped; the victim's data is unchanged", { timeout: 20_000 }, async (t) => {
  t.teardown(() => { if (process.env.TEST_MOSQUITTO_LOG) process.stderr.write(log); });
  const b = await connect({ username: 'mq-dev-b', password: devB.secret });
  await b.publishAsync('vigie/mq-dev-b/telemetry', reading(3.5), { qos: 1 });
  const a = await connect({ username: 'mq-dev-a', password: devA.secret });
  // MQTT 3.1.1 gives Mosquitto no way to refuse a PUBLISH: it drops it and answers a PUBACK
  // carrying 0x87 (not authorized), on which mqtt.js drops the connection.
  const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
  a.publish('vigie/mq-dev-b/telemetry', reading(-40), { qos: 1 });
  await closed;
  const a2 = await connect({ username: 'mq-dev-a', password: devA.secret });
  await a2.publishAsync('vigie/mq-dev-a/telemetry', reading(21), { qos: 1 });
  await b.publishAsync('vigie/mq-dev-b/telemetry', reading(4), { qos: 1 });
  await waitFor(async () => (await values('mq-dev-b')).length === 2 && (await values('mq-dev-a')).length === 1, 15_000, 'readings through Mosquitto');
  await new Promise((r) => setTimeout(r, 300));
  t.same(await values('mq-dev-b'), [3.5, 4], 'only the genuine readings');
  t.same(await values('mq-dev-a'), [21]);
  t.match(log, /Denied PUBLISH from mq-dev-a .*vigie\/mq-dev-b\/telemetry/, 'Mosquitto logged the denial');
});

t.test("a device cannot take over Vigie's session with its client id", async (t) => {
  const a = await connect({ username: 'mq-dev-a', password: devA.secret, clientId: vigie.username, clean: false });
  await a.publishAsync('vigie/mq-dev-a/telemetry', reading(22), { qos: 1 });
  await waitFor(async () => (await values('mq-dev-a')).includes(22), 15_000, 'the ingest still receiving');
  t.ok(tp.platform.ingest.source.connected, "Vigie's ingest kept its connection");
});

t.test('subscriptions outside the account are refused', async (t) => {
  const a = await connect({ username: 'mq-dev-a', password: devA.secret });
  const seen: string[] = [];
  a.on('message', (topic) => seen.push(topic));
  await a.subscribeAsync('#', { qos: 1 }).catch(() => undefined);
  await a.subscribeAsync('vigie/mq-dev-b/telemetry', { qos: 1 }).catch(() => undefined);
  const b = await connect({ username: 'mq-dev-b', password: devB.secret });
  await b.publishAsync('vigie/mq-dev-b/telemetry', reading(5), { qos: 1 });
  await waitFor(async () => (await values('mq-dev-b')).includes(5), 15_000, 'the reading stored');
  await new Promise((r) => setTimeout(r, 300));
  t.same(seen, [], "device A received nothing of device B's telemetry");
});

t.test('only Vigie publishes Sparkplug commands and alert events', async (t) => {
  const node = await connect({ username: 'mq-edge', password: edge.secret });
  const commands: string[] = [];
  node.on('message', (topic) => commands.push(topic));
  await node.subscribeAsync('spBv1.0/school/NCMD/gtb', { qos: 1 });
  // Denied publishes are dropped (and mqtt.js closes on the 0x87 PUBACK, see above): not awaited.
  const partner = await connect({ username: 'mq-partner', password: integ.secret });
  partner.publish('spBv1.0/school/NCMD/gtb', 'rebirth', { qos: 1 });
  await waitFor(() => /Denied PUBLISH from mq-partner .*spBv1\.0\/school\/NCMD\/gtb/.test(log), 5000, 'the NCMD denial');
  const forger = await connect({ username: 'mq-partner', password: integ.secret });
  forger.publish('vigie/alerts/ice-alarm/rws-1', JSON.stringify({ type: 'alert.resolved' }), { qos: 1, retain: true });
  await waitFor(() => /Denied PUBLISH from mq-partner .*vigie\/alerts\/ice-alarm\/rws-1/.test(log), 5000, 'the alert denial');
  await new Promise((r) => setTimeout(r, 300));
  t.ok(node.connected, 'the node is still listening');
  t.same(commands, [], 'no forged NCMD reached the node');
  node.publish('spBv1.0/school/NCMD/gtb', 'rebirth', { qos: 1 });
  await waitFor(() => /Denied PUBLISH from mq-edge .*NCMD/.test(log), 5000, "the node's own NCMD denied too");

  const reader = await connect({ username: 'mq-partner', password: integ.secret });
  const alerts: string[] = [];
  reader.on('message', (topic) => alerts.push(topic));
  await reader.subscribeAsync('vigie/alerts/#', { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  t.same(alerts, [], 'no forged retained alert event');
});
