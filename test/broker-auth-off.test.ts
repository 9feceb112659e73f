/**
 * VIGIE_MQTT_AUTH=off, pinned: anonymous clients publish ingest topics on a loopback-only
 * broker, but Vigie's client ids, alert topics and Sparkplug commands stay Vigie's.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import t from 'tap';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const tp = await startTestPlatform({ embeddedBroker: true, env: { VIGIE_MQTT_AUTH: 'off' } });
t.teardown(() => tp.stop());
const P = tp.prefix;
const open: MqttClient[] = [];
t.teardown(async () => {
  for (const c of open) await c.endAsync(true).catch(() => {});
});
const connect = async (o: IClientOptions = {}) => {
  const c = await mqtt.connectAsync(tp.platform.mqttUrl, { clientId: `anon-${randomBytes(3).toString('hex')}`, reconnectPeriod: 0, ...o });
  open.push(c);
  return c;
};

t.test('anonymous publishing on loopback; Vigie-only topics and client ids still refused', async (t) => {
  t.equal(tp.platform.broker?.host, '127.0.0.1', 'loopback only');
  const c = await connect();
  await c.publishAsync(`${P}vigie/anon-1/telemetry`, JSON.stringify({ ts: new Date().toISOString(), metrics: { co2: 700 } }), { qos: 1 });
  await waitFor(async () => (await tp.platform.pool.query(`select 1 from observations where device_id = 'anon-1'`)).rowCount === 1, 15_000, 'the reading');
  for (const topic of [`${P}vigie/alerts/ice-alarm/rws-1`, `${P}spBv1.0/school/NCMD/gtb`]) {
    const f = await connect();
    const closed = new Promise<void>((resolve) => f.once('close', () => resolve()));
    f.publish(topic, 'forged', { qos: 0, retain: true });
    await closed;
    t.pass(`${topic} refused`);
  }
  const taken = await connect({ clientId: tp.platform.config.mqtt.clientId, clean: false }).then(() => 0, (err: { code?: number }) => err.code);
  t.equal(taken, 5, "Vigie's client id is refused");
  t.ok(tp.platform.ingest.source.connected);
});
