/**
 * One table test for every decoder's golden cases (see test/helpers/golden.ts). Each case runs
 * through the whole pure ingest path (route, decoder, normalizer), so the expected output is
 * what the store receives. The test only reads `expected.json`: a case without one fails. The
 * expectations are written by hand from the standard's text; `npx tsx test/helpers/golden-actual.ts
 * <format>/<case>` prints what the code produces today, to compare with them, never to copy blindly.
 */
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { loadGoldenCases, runGoldenCase, type GoldenOutput } from './helpers/golden.ts';

const cases = loadGoldenCases();
const formats = new Set(cases.map((c) => c.format));
t.ok(cases.length >= 25, `at least 25 golden cases (found ${cases.length})`);
for (const f of ['ttn-v3', 'chirpstack-v4', 'senml', 'sparkplug-b', 'ngsi']) t.ok(formats.has(f), `${f} has golden cases`);

for (const c of cases) {
  t.test(`${c.format}/${c.name}`, async (t) => {
    const { out, actual } = runGoldenCase(c);
    if (!existsSync(c.expectedPath)) {
      t.fail(`${c.expectedPath} is missing: write the expectation from the standard's text`);
      return;
    }
    const expected = JSON.parse(readFileSync(c.expectedPath, 'utf8')) as GoldenOutput;
    t.same(actual.observations, expected.observations, 'observations');
    t.same(actual.deadLetters, expected.deadLetters, 'dead letters (code, field, reason)');
    t.same(actual.commands ?? [], expected.commands ?? [], 'commands');
    t.same(actual.deviceStatus ?? [], expected.deviceStatus ?? [], 'device status');
    t.same(actual.deviceInfo ?? [], expected.deviceInfo ?? [], 'device info');
    // Raw payload bytes are kept faithfully in every dead letter.
    for (const d of out.deadLetters) t.ok(d.payload.equals(c.message.payload.subarray(0, 16 * 1024)), 'dead letter keeps the raw payload');
  });
}
