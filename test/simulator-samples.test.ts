/**
 * The sample feeds shipped in simulators/recordings/samples/ replay cleanly into a Vigie that
 * loads the demo registry: every message stored, no dead letter, every device of the morning
 * feed heard.
 */
import path from 'node:path';
import t from 'tap';
import { loadFleet } from '../simulators/fleet/run.ts';
import { readRecording } from '../simulators/recordings/format.ts';
import { replay } from '../simulators/recordings/replay.ts';
import type { Page } from './helpers/formats.ts';
import { startTestPlatform, TEST_MQTT_URL } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const registryPath = path.resolve('infra/demo/devices.yaml');
const samples = path.resolve('simulators/recordings/samples');
const tp = await startTestPlatform({ env: { VIGIE_ALERTING: 'false', VIGIE_REGISTRY: registryPath } });
t.teardown(() => tp.stop());

t.test('every sample recording replays without a dead letter', async (t) => {
  for (const f of ['demo-fleet-morning.ndjson.gz', 'ice-night.ndjson.gz', 'rush-hour-incident.ndjson.gz']) {
    let n = 0;
    for await (const _ of readRecording(path.join(samples, f))) n++;
    const r = await replay({ broker: { url: TEST_MQTT_URL }, file: path.join(samples, f), speed: Infinity, topicPrefix: tp.prefix, progress: false });
    t.same([r.read, r.published, r.errors], [n, n, 0], `${f}: ${n} messages`);
  }
  const formats = new Set<string>();
  for await (const m of readRecording(path.join(samples, 'demo-fleet-morning.ndjson.gz'))) formats.add(m.topic.split('/')[0] === 'vigie' ? m.topic.split('/').at(-1)! : m.topic.split('/')[0]!);
  t.same([...formats].sort(), ['application', 'ngsi', 'senml', 'spBv1.0', 'telemetry', 'v3'], 'the morning feed has every wire format');
  for (const d of loadFleet(registryPath)) {
    await waitFor(async () => (await tp.get<{ items: unknown[] }>(`/api/v1/devices/${encodeURIComponent(d.id)}/latest`)).body.items.length > 0, 20_000, `${d.id} heard`);
  }
  await tp.platform.ingest.sink.flush();
  const dead = await tp.get<Page<{ topic: string; code: string; reason: string }>>('/api/v1/dead-letters?limit=100');
  t.same(dead.body.items.map((d) => `${d.topic}: ${d.code} ${d.reason}`), []);
});
