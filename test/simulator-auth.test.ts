/**
 * The demo's path on the embedded broker with authentication on (pinned): credentials are
 * provisioned from infra/demo/devices.yaml, and every simulated device and gateway logs in as
 * itself; everything is stored and the broker refuses nothing.
 */
import path from 'node:path';
import t from 'tap';
import { provisionRegistry } from '../services/broker-auth/provision.ts';
import { listCredentials } from '../services/broker-auth/store.ts';
import { loadFleet, runFleet } from '../simulators/fleet/run.ts';
import { startTestPlatform } from './helpers/platform.ts';

const registryPath = path.resolve('infra/demo/devices.yaml');
const tp = await startTestPlatform({ embeddedBroker: true, env: { VIGIE_REGISTRY: registryPath, VIGIE_MQTT_AUTH: 'on' } });
t.teardown(() => tp.stop());

t.test('the simulated fleet publishes with per-device and per-gateway credentials', async (t) => {
  const credentials = await provisionRegistry(tp.platform.pool, registryPath, 'demo');
  t.ok(credentials['rws-rd910-pr42'], 'a native device has its own account');
  t.ok(credentials['gtb-jmoulin'] && credentials['tts-86'] && credentials['chirpstack-cclaudel'] && credentials['ngsi-partner'], 'each gateway has one');
  t.notOk(credentials['clg-jmoulin-s103-lora'], 'a LoRaWAN device publishes through its network server, not itself');
  const lines: string[] = [];
  await runFleet({ url: tp.platform.mqttUrl, registryPath, intervalSeconds: 1, durationSeconds: 2.5, topicPrefix: tp.prefix, seed: 7, credentials, log: (l) => lines.push(l) });
  await tp.platform.ingest.sink.flush();
  t.same(lines.filter((l) => /skipped|failed/.test(l)), [], 'no device left without an account');
  for (const d of loadFleet(registryPath)) {
    const r = await tp.get<{ items: unknown[] }>(`/api/v1/devices/${encodeURIComponent(d.id)}/latest`);
    t.ok(r.body.items.length > 0, `${d.id} (${d.tags.format ?? 'native'}) has observations`);
  }
  const metrics = (await tp.platform.app.inject({ method: 'GET', url: '/metrics' })).body;
  t.notMatch(metrics, /^vigie_mqtt_(publish|subscribe|connect)_refused_total\{[^}]*\} [1-9]/m, 'the broker refused nothing');

  const again = await provisionRegistry(tp.platform.pool, registryPath, 'demo');
  const active = await listCredentials(tp.platform.pool, { username: 'rws-rd910-pr42' });
  t.equal(active.length, 1, 're-provisioning revokes the previous demo credentials');
  t.not(again['rws-rd910-pr42'], credentials['rws-rd910-pr42']);
});
