/**
 * Record and replay through real parts (Mosquitto, PostgreSQL, the platform): the demo fleet, in
 * every wire format, is simulated live into one Vigie while `vigie record` captures the broker's
 * traffic; the recording is replayed a day earlier (`--shift -24h`) into a second Vigie, with one
 * clone of every device. The second Vigie must store exactly the first one's observations,
 * every time moved by exactly the shift, and the clones the same values under their own ids.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runFleet } from '../simulators/fleet/run.ts';
import { readRecording } from '../simulators/recordings/format.ts';
import { record } from '../simulators/recordings/record.ts';
import { replay } from '../simulators/recordings/replay.ts';
import { cloneId } from '../simulators/recordings/rewrite.ts';
import { loadFleet } from '../simulators/fleet/run.ts';
import { registryFile, type Obs, type Page } from './helpers/formats.ts';
import { startTestPlatform, TEST_MQTT_URL, type TestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const registryPath = path.resolve('infra/demo/devices.yaml');
// A Sparkplug device id is {group}:{node}:{device}: its clone is a new edge node.
const cloneOf = (id: string) => {
  const parts = id.split(':');
  return parts.length >= 2 ? [parts[0], cloneId(parts[1]!, 1), ...parts.slice(2)].join(':') : cloneId(id, 1);
};
// Devices whose payload keys depend on their profile (LoRaWAN) need their clones registered too.
const demo = loadFleet(registryPath);
const withClones = registryFile([...demo, ...demo.map((d) => ({ ...d, id: cloneOf(d.id) }))]);
const a = await startTestPlatform({ env: { VIGIE_ALERTING: 'false', VIGIE_REGISTRY: registryPath } });
const b = await startTestPlatform({ env: { VIGIE_ALERTING: 'false', VIGIE_REGISTRY: withClones } });
t.teardown(async () => {
  await a.stop();
  await b.stop();
});
const DAY = 86_400_000;

async function observations(tp: TestPlatform): Promise<Obs[]> {
  const out: Obs[] = [];
  let cursor: string | null = null;
  do {
    const r: { body: Page<Obs> } = await tp.get(`/api/v1/observations?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&limit=10000${cursor ? `&cursor=${cursor}` : ''}`);
    out.push(...r.body.items);
    cursor = r.body.nextCursor;
  } while (cursor);
  return out;
}

/** Waits until the count stops moving (the sink has committed what the broker delivered). */
async function settled(tp: TestPlatform, atLeast: number): Promise<Obs[]> {
  let last = -1;
  return waitFor(async () => {
    await tp.platform.ingest.sink.flush();
    const obs = await observations(tp);
    const stable = obs.length === last && obs.length >= atLeast;
    last = obs.length;
    if (!stable) await new Promise((r) => setTimeout(r, 300));
    return stable ? obs : undefined;
  }, 30_000, `stored observations of ${tp.prefix}`);
}

const key = (o: Obs, shift = 0, id = o.deviceId) => `${id}|${o.metric}|${o.channel ?? ''}|${new Date(Date.parse(o.time) + shift).toISOString()}|${o.value}`;

t.test('a recording replayed a day earlier, with clones, stores the live run shifted by exactly a day', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-rec-'));
  const file = path.join(dir, 'fleet.ndjson.gz');
  const wire = ['vigie/+/telemetry', 'vigie/+/senml', 'vigie/ngsi', 'v3/+/devices/+/up', 'application/+/device/+/event/+', ...['NBIRTH', 'NDATA', 'NDEATH'].map((x) => `spBv1.0/+/${x}/+`), ...['DBIRTH', 'DDATA', 'DDEATH'].map((x) => `spBv1.0/+/${x}/+/+`)];
  let ready!: () => void;
  const subscribed = new Promise<void>((r) => (ready = r));
  let stop!: () => void;
  const recording = record({ broker: { url: TEST_MQTT_URL }, file, filters: wire.map((f) => a.prefix + f), progress: false, stop: new Promise((r) => (stop = r)), onReady: ready });
  await subscribed;
  // 40 simulated minutes ending 5 minutes ago, as fast as the broker takes it.
  const live = await runFleet({ url: a.platform.mqttUrl, registryPath, topicPrefix: a.prefix, seed: 11, start: Date.now() - 45 * 60_000, durationSeconds: 40 * 60, speed: Infinity, log: () => {}, progress: false });
  t.equal(live.errors, 0);
  const stored = await settled(a, 50);
  await new Promise((r) => setTimeout(r, 500));
  stop();
  const rec = await recording;
  const deadA = await a.get<Page<{ topic: string; code: string; reason: string }>>('/api/v1/dead-letters?limit=100');
  t.same(deadA.body.items.map((d) => `${d.topic}: ${d.code} ${d.reason}`), [], 'no dead letter from the live run');
  t.ok(rec.messages >= live.published, `recorded ${rec.messages} of ${live.published} published messages`);
  const topics = new Set<string>();
  for await (const m of readRecording(file)) topics.add(m.topic.slice(a.prefix.length).split('/')[0]!);
  t.same([...topics].sort(), ['application', 'spBv1.0', 'v3', 'vigie'], 'every wire format is in the recording');

  const r = await replay({ broker: { url: TEST_MQTT_URL }, file, speed: Infinity, shiftMs: -DAY, clones: 1, stripPrefix: a.prefix, topicPrefix: b.prefix, progress: false });
  t.equal(r.errors, 0);
  const replayed = await settled(b, stored.length * 2);
  const originals = new Set(stored.map((o) => o.deviceId));
  const want = stored.map((o) => key(o, -DAY)).sort();
  t.same(replayed.filter((o) => originals.has(o.deviceId)).map((o) => key(o)).sort(), want, `${stored.length} observations, each a day earlier`);
  t.same(replayed.filter((o) => !originals.has(o.deviceId)).map((o) => key(o)).sort(), stored.map((o) => key(o, -DAY, cloneOf(o.deviceId))).sort(), 'the clones carry the same values under their own ids');
  const dead = await b.get<Page<{ topic: string; code: string; reason: string }>>('/api/v1/dead-letters?limit=100');
  t.same(dead.body.items.map((d) => `${d.topic}: ${d.code} ${d.reason}`), [], 'no dead letter from the replay');
});
