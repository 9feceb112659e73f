/**
 * The embedded broker's TLS listener (mqtts), with certificates made by `openssl` here: the
 * server certificate verifies against the test CA, a device presenting a certificate the CA
 * signed logs in as its CN (and only publishes as that device), a certificate from elsewhere
 * is not an identity, and a password still works over TLS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import t from 'tap';
import { createCredential } from '../services/broker-auth/store.ts';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-tls-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const key = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', f(name));
function signed(name: string, cn: string, ca: string, ext?: string) {
  key(`${name}.key`);
  openssl('req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`));
  const extArgs = ext ? (writeFileSync(f(`${name}.ext`), ext), ['-extfile', f(`${name}.ext`)]) : [];
  openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-days', '1', '-out', f(`${name}.pem`), ...extArgs);
}
function authority(name: string, cn: string) {
  key(`${name}.key`);
  openssl('req', '-x509', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-days', '1', '-out', f(`${name}.pem`));
}
authority('ca', 'Vigie test device CA');
authority('rogue-ca', 'Someone else');
signed('server', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
signed('dev1', 'tls-dev-1', 'ca');
signed('rogue', 'tls-dev-2', 'rogue-ca');

const tp = await startTestPlatform({
  embeddedBroker: true,
  env: { VIGIE_MQTT_AUTH: 'on', VIGIE_MQTT_TLS_CERT: f('server.pem'), VIGIE_MQTT_TLS_KEY: f('server.key'), VIGIE_MQTT_TLS_CA: f('ca.pem'), VIGIE_MQTT_TLS_PORT: '0', VIGIE_MQTT_TLS_HOST: '127.0.0.1' },
});
t.teardown(() => tp.stop());
const P = tp.prefix;
const url = `mqtts://127.0.0.1:${tp.platform.broker!.tlsPort}`;
const ca = readFileSync(f('ca.pem'));
const open: MqttClient[] = [];
t.teardown(async () => {
  for (const c of open) await c.endAsync(true).catch(() => {});
});
async function connect(options: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { ca, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  open.push(c);
  return c;
}
const values = async (device: string) => (await tp.platform.pool.query<{ value: number }>(`select value from observations where device_id = $1`, [device])).rows.map((r) => r.value);
const reading = (v: number) => JSON.stringify({ ts: new Date().toISOString(), metrics: { air_temperature: v } });

t.test('with a device CA configured, devices can log in: the broker listens on every interface', async (t) => {
  t.equal(tp.platform.broker?.host, '0.0.0.0');
});

t.test('a device certificate signed by the CA logs in as its CN, and publishes only as that device', async (t) => {
  const c = await connect({ cert: readFileSync(f('dev1.pem')), key: readFileSync(f('dev1.key')) });
  await c.publishAsync(`${P}vigie/tls-dev-1/telemetry`, reading(7.5), { qos: 1 });
  await waitFor(async () => (await values('tls-dev-1')).length === 1, 15_000, 'the reading over mqtts');
  t.same(await values('tls-dev-1'), [7.5]);
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  c.publish(`${P}vigie/tls-dev-9/telemetry`, reading(1), { qos: 0 });
  await closed;
  t.same(await values('tls-dev-9'), [], 'another device id is refused');
});

t.test('a certificate the CA did not sign is no identity; no certificate and no password is refused', async (t) => {
  const rogue = await connect({ cert: readFileSync(f('rogue.pem')), key: readFileSync(f('rogue.key')) }).catch((err: { code?: number }) => err.code);
  t.equal(rogue, 5, 'a foreign certificate: not authorized');
  const none = await connect({}).catch((err: { code?: number }) => err.code);
  t.equal(none, 5, 'anonymous over TLS: not authorized');
});

t.test('the server certificate verifies against the CA; a password works over TLS too', async (t) => {
  const cred = await createCredential(tp.platform.pool, { kind: 'device', username: 'tls-dev-3' });
  const c = await connect({ username: 'tls-dev-3', password: cred.secret });
  await c.publishAsync(`${P}vigie/tls-dev-3/telemetry`, reading(3), { qos: 1 });
  await waitFor(async () => (await values('tls-dev-3')).length === 1, 15_000, 'the reading');
  const untrusted = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, username: 'tls-dev-3', password: cred.secret }).catch((err: Error) => err);
  t.match(String(untrusted), /self[- ]signed|unable to (get|verify)/i, 'without the CA the client refuses the server certificate');
});
