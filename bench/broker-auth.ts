/**
 * npm run bench:broker-auth [-- --devices N]
 *
 * What authentication costs the embedded broker in a reconnect storm (README, "Devices and the
 * broker"): N devices, each with its own credential, connect at once with a cold cache (one
 * scrypt and one database lookup per device, as after a restart), then all drop and reconnect
 * at once within VIGIE_MQTT_AUTH_CACHE_SECONDS (answered from the cache). Prints JSON: wall
 * time and connections per second of each wave. Real platform, machine's PostgreSQL, embedded broker.
 */
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { createCredential } from '../services/broker-auth/store.ts';
import { startTestPlatform } from '../test/helpers/platform.ts';

const { values } = parseArgs({ options: { devices: { type: 'string', default: '1000' } } });
const N = Number(values.devices);
const CACHE_SECONDS = 30;

const tp = await startTestPlatform({ embeddedBroker: true, env: { VIGIE_MQTT_AUTH: 'on', VIGIE_MQTT_AUTH_CACHE_SECONDS: String(CACHE_SECONDS) } });
const logins: Array<{ username: string; password: string }> = [];
for (let i = 0; i < N; i += 50) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(50, N - i) }, (_, k) => createCredential(tp.platform.pool, { kind: 'device', username: `storm-${i + k}` })),
  );
  logins.push(...batch.map((c) => ({ username: c.credential.username, password: c.secret })));
}

async function wave(): Promise<{ seconds: number; perSecond: number }> {
  const started = performance.now();
  const clients: MqttClient[] = await Promise.all(
    logins.map((l) => mqtt.connectAsync(tp.platform.mqttUrl, { ...l, clientId: `storm-${l.username}`, reconnectPeriod: 0, connectTimeout: 120_000 })),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.endAsync(true)));
  return { seconds: Math.round(seconds * 1000) / 1000, perSecond: Math.round(N / seconds) };
}

const cold = await wave();
const warm = await wave();
const result = { devices: N, cacheSeconds: CACHE_SECONDS, coldCache: cold, warmCache: warm };
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
await tp.stop();
