/**
 * `vigie import` turns the operators' CSV files into recordings that, replayed through the
 * machine's Mosquitto, become the stored observations the files describe (the sample files of
 * simulators/recordings/samples/); `vigie record` stops at its message limit.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { readRecording } from '../simulators/recordings/format.ts';
import { importTrafficCsv, importWeatherCsv } from '../simulators/recordings/import-csv.ts';
import { record } from '../simulators/recordings/record.ts';
import { replay } from '../simulators/recordings/replay.ts';
import type { Obs } from './helpers/formats.ts';
import { startTestPlatform, TEST_MQTT_URL } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const samples = path.resolve('simulators/recordings/samples');
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-imp-'));
const tp = await startTestPlatform({ env: { VIGIE_ALERTING: 'false' } });
t.teardown(() => tp.stop());

const series = async (device: string, metric: string, channel?: string) =>
  (await tp.get<{ items: Obs[] }>(`/api/v1/observations?device=${device}&metric=${metric}${channel ? `&channel=${channel}` : ''}&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`)).body.items.map((o) => [o.time, o.value]);

t.test('traffic and road-weather CSV files replay as the observations they describe', async (t) => {
  const traffic = await importTrafficCsv(path.join(samples, 'traffic-6min.csv'), path.join(dir, 'traffic.ndjson'));
  t.same(traffic, { rows: 5, messages: 3, skipped: [] });
  const weather = await importWeatherCsv(path.join(samples, 'road-weather.csv'), path.join(dir, 'weather.ndjson.gz'));
  t.same(weather, { rows: 3, messages: 3, skipped: [] });
  for (const f of ['traffic.ndjson', 'weather.ndjson.gz']) {
    const r = await replay({ broker: { url: TEST_MQTT_URL }, file: path.join(dir, f), speed: Infinity, topicPrefix: tp.prefix, progress: false });
    t.equal(r.errors, 0);
  }
  await waitFor(async () => (await series('rws-rd951-pr3', 'air_temperature')).length === 1, 20_000, 'the imported observations');
  // Dated at the end of the 6-minute period; a -1 speed is missing, not a number.
  t.same(await series('tc-rd910-pr40', 'vehicle_count', 'lane1'), [['2026-01-13T06:06:00.000Z', 64], ['2026-01-13T06:12:00.000Z', 70]]);
  t.same(await series('tc-rd910-pr40', 'flow', 'lane2'), [['2026-01-13T06:06:00.000Z', 510], ['2026-01-13T06:12:00.000Z', 0]]);
  t.same(await series('tc-rd910-pr40', 'mean_speed', 'lane2'), [['2026-01-13T06:06:00.000Z', 85]]);
  // A zone-less time is Europe/Paris.
  t.same(await series('tc-rd347-pr10', 'vehicle_count', 'lane1'), [['2026-01-13T06:06:00.000Z', 12]]);
  t.same(await series('rws-rd910-pr42', 'relative_humidity'), [['2026-01-15T04:00:00.000Z', 92]], 'the 101 sentinel is left out');
  t.same(await series('rws-rd951-pr3', 'surface_temperature'), [], 'the 1001 sentinel is left out');
  t.same(await series('rws-rd951-pr3', 'air_temperature'), [['2026-01-15T04:00:00.000Z', -0.4]]);
});

t.test('record stops at its message limit and keeps topic, QoS, retain and bytes', async (t) => {
  const file = path.join(dir, 'limit.ndjson');
  let ready!: () => void;
  const subscribed = new Promise<void>((r) => (ready = r));
  const done = record({ broker: { url: TEST_MQTT_URL }, file, filters: [`${tp.prefix}rec/#`], maxMessages: 3, progress: false, stop: new Promise(() => {}), onReady: ready });
  await subscribed;
  const pub = await tp.publisher();
  for (let i = 0; i < 5; i++) await pub.publishAsync(`${tp.prefix}rec/${i}`, Buffer.from([0, 255, i]), { qos: 1 });
  const r = await done;
  t.equal(r.stoppedBy, 'message limit');
  const got = [];
  for await (const m of readRecording(file)) got.push(m);
  t.same(got.map((m) => [m.topic.slice(tp.prefix.length), m.qos, m.retain, [...m.payload]]), [0, 1, 2].map((i) => [`rec/${i}`, 1, false, [0, 255, i]]));
});
