/**
 * One table test for every decoder's golden cases (see test/helpers/golden.ts). Each case runs
 * through the whole pure ingest path (route, decoder, normalizer), so the expected output is
 * what the store receives. GOLDEN_UPDATE=1 rewrites expected.json (review the diff!).
 */
import { writeFileSync, existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { processMessage } from '../ingest/process-message.ts';
import { qualityFlags } from '../schemas/index.ts';
import { goldenOptions, loadGoldenCases } from './helpers/golden.ts';

interface Expected {
  observations: Array<{ deviceId: string; metric: string; channel: string; time: string; value: number; quality: string[] }>;
  deadLetters: Array<{ code: string; field: string | null; deviceId: string | null; reason: string }>;
  commands?: Array<{ topic: string; reason: string }>;
  deviceStatus?: Array<{ deviceId: string; online: boolean; at: string; reason: string }>;
  deviceInfo?: unknown[];
}

const cases = loadGoldenCases();
const formats = new Set(cases.map((c) => c.format));
t.ok(cases.length >= 25, `at least 25 golden cases (found ${cases.length})`);
for (const f of ['ttn-v3', 'chirpstack-v4', 'senml', 'sparkplug-b', 'ngsi']) t.ok(formats.has(f), `${f} has golden cases`);

for (const c of cases) {
  t.test(`${c.format}/${c.name}`, async (t) => {
    const options = goldenOptions(c.devices);
    for (const m of c.before) processMessage(m, options);
    const out = processMessage(c.message, options);
    const actual: Expected = {
      observations: out.observations.map((o) => ({ deviceId: o.deviceId, metric: o.metric, channel: o.channel, time: o.time.toISOString(), value: o.value, quality: qualityFlags(o.quality) })),
      deadLetters: out.deadLetters.map((d) => ({ code: d.code, field: d.field, deviceId: d.deviceId, reason: d.reason })),
      ...(out.commands ? { commands: out.commands.map((x) => ({ topic: x.topic, reason: x.reason })) } : {}),
      ...(out.deviceStatus ? { deviceStatus: out.deviceStatus.map((s) => ({ ...s, at: s.at.toISOString() })) } : {}),
      ...(out.deviceInfo ? { deviceInfo: out.deviceInfo } : {}),
    };
    if (process.env.GOLDEN_UPDATE === '1' || !existsSync(c.expectedPath)) {
      if (process.env.GOLDEN_UPDATE !== '1') t.fail(`${c.expectedPath} is missing`);
      writeFileSync(c.expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
      return;
    }
    const expected = JSON.parse(readFileSync(c.expectedPath, 'utf8')) as Expected;
    t.same(actual.observations, expected.observations, 'observations');
    t.same(actual.deadLetters, expected.deadLetters, 'dead letters (code, field, reason)');
    t.same(actual.commands ?? [], expected.commands ?? [], 'commands');
    t.same(actual.deviceStatus ?? [], expected.deviceStatus ?? [], 'device status');
    t.same(actual.deviceInfo ?? [], expected.deviceInfo ?? [], 'device info');
    // Raw payload bytes are kept faithfully in every dead letter.
    for (const d of out.deadLetters) t.ok(d.payload.equals(c.message.payload.subarray(0, 16 * 1024)), 'dead letter keeps the raw payload');
  });
}
