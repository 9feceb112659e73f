/**
 * The demo fleet speaks the real wire formats: every device of infra/demo/devices.yaml yields
 * observations through its format's decoder, without a dead letter (a simulator that only
 * pleased Vigie's decoders would not prove much, so the simulators import nothing of the
 * platform but schemas/ - checked below too).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadFleet, runFleet } from '../simulators/fleet/run.ts';
import type { Dead, DeviceItem, Page } from './helpers/formats.ts';
import { startTestPlatform } from './helpers/platform.ts';

const registryPath = path.resolve('infra/demo/devices.yaml');
const tp = await startTestPlatform({ env: { VIGIE_REGISTRY: registryPath } });
t.teardown(() => tp.stop());

t.test('simulators import nothing of the platform but schemas/', async (t) => {
  const dir = path.resolve('simulators');
  const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
  for (const f of files) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
      const target = path.resolve(dir, path.dirname(f), m[1]!);
      t.ok(target.startsWith(dir) || target.startsWith(path.resolve('schemas')), `${f} imports ${m[1]}`);
    }
  }
});

t.test('every demo device speaking a wire format is stored without dead letters', async (t) => {
  await runFleet({ url: tp.platform.mqttUrl, registryPath, intervalSeconds: 1, durationSeconds: 2.5, topicPrefix: tp.prefix, seed: 7, log: () => {} });
  await tp.platform.ingest.sink.flush();
  const devices = loadFleet(registryPath).filter((d) => d.tags.format && d.tags.format !== 'native');
  t.ok(devices.length >= 8, `${devices.length} devices speak other formats`);
  const formats = new Set(devices.map((d) => d.tags.format));
  t.same([...formats].sort(), ['chirpstack-v4', 'ngsi', 'senml', 'sparkplug-b', 'sparkplug-b-device', 'ttn-v3']);
  for (const d of devices) {
    const r = await tp.get<{ items: unknown[] }>(`/api/v1/devices/${encodeURIComponent(d.id)}/latest`);
    t.ok(r.body.items.length > 0, `${d.id} (${d.tags.format}) has observations`);
  }
  const dead = await tp.get<Page<Dead>>('/api/v1/dead-letters?limit=1000');
  t.same(dead.body.items.map((x) => `${x.topic}: ${x.code} ${x.reason}`), [], 'no dead letter from the demo fleet');
  const node = await tp.get<DeviceItem>(`/api/v1/devices/${encodeURIComponent('clg-jmoulin:gtb-edge')}`);
  t.equal(node.body.online, false, 'the edge node published its NDEATH when the fleet stopped');
  t.equal(node.body.statusReason, 'NDEATH');
});
