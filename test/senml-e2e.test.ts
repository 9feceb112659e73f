/**
 * SenML end to end on the machine's Mosquitto and PostgreSQL: one pack carrying two sensors
 * (the shape of RFC 8428 §5.1.6 "Collection of Resources", with the current time) keeps them
 * apart, every value is stored, and records of one pack that land on one key are dead letters,
 * never lost under the store's `on conflict do nothing`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';
import { registryFile, type Dead, type Page } from './helpers/formats.ts';

// A device model known to send percentages as "%" (RFC 8428 §12.1 Note 2 makes "%" a ratio).
const profilesDir = mkdtempSync(path.join(os.tmpdir(), 'vigie-profiles-'));
writeFileSync(
  path.join(profilesDir, 'senml-percent-misuse.yaml'),
  `name: senml-percent-misuse\ndescription: SenML device sending percentages as "%".\nkeys: {}\nsenmlUnits: { '%': '/100' }\n`,
);
const registry = registryFile([{ id: 'senml-misuse-1', kind: 'building-sensor', domain: 'buildings', profile: 'senml-percent-misuse' }]);
// Plain PostgreSQL: the test needs the store, not TimescaleDB.
const tp = await startTestPlatform({ env: { VIGIE_TIMESCALE: 'off', VIGIE_PROFILES_DIR: profilesDir, VIGIE_REGISTRY: registry } });
t.teardown(() => tp.stop());
const pub = await tp.publisher();
const P = tp.prefix;

interface Row {
  channel: string;
  metric: string;
  value: number;
  time: Date;
}

const rowsOf = async (device: string): Promise<Row[]> =>
  (await tp.platform.pool.query<Row>(`select channel, metric, value, time from observations where device_id = $1 order by channel, metric, time`, [device])).rows;

t.test('two sensors of one pack are stored apart, with all their values', async (t) => {
  const bt = Math.floor(Date.now() / 1000) - 60;
  const pack = [
    { bn: '2001:db8::2/', bt, n: 'temperature', u: 'Cel', v: 25.2 },
    { n: 'humidity', u: '%RH', v: 30 },
    { n: 'temperature', u: 'Cel', v: 25.4, t: 30 },
    { bn: '2001:db8::1/', n: 'temperature', u: 'Cel', v: 12.3 },
    { n: 'humidity', u: '%RH', v: 67 },
    { n: 'temperature', u: 'Cel', v: 12.5, t: 30 },
  ];
  await pub.publishAsync(`${P}vigie/senml-gw-1/senml`, JSON.stringify(pack), { qos: 1 });
  const rows = await waitFor(async () => {
    const r = await rowsOf('senml-gw-1');
    return r.length >= 6 ? r : undefined;
  }, 20_000, 'six observations of senml-gw-1');
  const at = (s: number) => new Date((bt + s) * 1000).toISOString();
  t.same(
    rows.map((r) => [r.channel, r.metric, r.value, r.time.toISOString()]),
    [
      ['2001:db8::1', 'air_temperature', 12.3, at(0)],
      ['2001:db8::1', 'air_temperature', 12.5, at(30)],
      ['2001:db8::1', 'relative_humidity', 67, at(0)],
      ['2001:db8::2', 'air_temperature', 25.2, at(0)],
      ['2001:db8::2', 'air_temperature', 25.4, at(30)],
      ['2001:db8::2', 'relative_humidity', 30, at(0)],
    ],
    'each sensor on its own channel, every value once',
  );
  const dead = await tp.get<Page<Dead>>('/api/v1/dead-letters?device=senml-gw-1');
  t.same(dead.body.items, [], 'nothing rejected');
});

t.test('two records of one pack on one key: the first is stored, the other is a dead letter', async (t) => {
  const bt = Math.floor(Date.now() / 1000) - 60;
  const pack = [
    { bver: 26, bt, n: 'co2', u: 'ppm', v: 640 },
    { n: 'CO2', u: 'ppm', v: 655 },
    { n: 'co2', u: 'ppm', v: 640 },
    { n: 'co2', u: 'ppm', v: 700, t: 60 },
  ];
  await pub.publishAsync(`${P}vigie/senml-dup-1/senml`, JSON.stringify(pack), { qos: 1 });
  const dead = await waitFor(async () => {
    const r = await tp.get<Page<Dead>>('/api/v1/dead-letters?device=senml-dup-1&code=duplicate_key');
    return r.body.items.length >= 2 ? r.body.items : undefined;
  }, 20_000, 'two duplicate_key dead letters');
  t.same(dead.map((d) => d.field).sort(), ['[1].v', '[2].v']);
  t.match(dead.find((d) => d.field === '[1].v')?.reason, /CO2 lands on the same \(co2, channel "", .*\) as co2 \(\[0\]\.v\)/);
  const rows = await rowsOf('senml-dup-1');
  t.same(
    rows.map((r) => [r.metric, r.value, r.time.toISOString()]),
    [
      ['co2', 640, new Date(bt * 1000).toISOString()],
      ['co2', 700, new Date((bt + 60) * 1000).toISOString()],
    ],
  );
});

t.test('"%" is a ratio unless the device profile says the model means percent', async (t) => {
  const bt = Math.floor(Date.now() / 1000) - 60;
  const pack = JSON.stringify([{ bt, n: 'humidity', u: '%', v: 45.2 }]);
  await pub.publishAsync(`${P}vigie/senml-misuse-1/senml`, pack, { qos: 1 });
  await pub.publishAsync(`${P}vigie/senml-plain-1/senml`, pack, { qos: 1 });
  const rows = await waitFor(async () => {
    const r = await rowsOf('senml-misuse-1');
    return r.length >= 1 ? r : undefined;
  }, 20_000, 'the humidity of senml-misuse-1');
  t.same(rows.map((r) => [r.metric, r.value]), [['relative_humidity', 45.2]], 'override: 45.2 %');
  const dead = await waitFor(async () => {
    const r = await tp.get<Page<Dead>>('/api/v1/dead-letters?device=senml-plain-1');
    return r.body.items[0];
  }, 20_000, 'the dead letter of senml-plain-1');
  t.equal(dead.code, 'out_of_range', 'without it, 45.2 "%" is the ratio 45.2 = 4520 %');
  t.same(await rowsOf('senml-plain-1'), []);
  const profiles = await tp.get<{ items: Array<{ name: string; senmlUnits: Record<string, string> }> }>('/api/v1/profiles');
  t.same(profiles.body.items.find((p) => p.name === 'senml-percent-misuse')?.senmlUnits, { '%': '/100' }, 'the override is listed');
});
