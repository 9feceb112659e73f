import t from 'tap';
import type { DecodeContext } from '../../decoder.ts';
import { nativeDecoder } from './index.ts';

const ctx: DecodeContext = { now: new Date(), device: () => undefined, profile: () => undefined, state: () => new Map() };
const decode = (topic: string, payload: string | object) =>
  nativeDecoder.decode({ topic, payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), receivedAt: new Date('2026-01-15T06:30:00Z') }, ctx);

t.test('metrics and channels become readings with their field paths', async (t) => {
  const r = decode('vigie/tc-1/telemetry', { ts: '2026-01-15T06:24:00Z', metrics: { battery: 88 }, channels: { lane1: { vehicle_count: 31, mean_speed: 84 }, 'dir+': { flow: 620 } } });
  t.equal(r.deviceId, 'tc-1');
  t.same(r.rejects, []);
  t.same(
    r.readings.map((x) => [x.channel, x.metric, x.value, x.field, x.time?.toISOString()]),
    [
      ['', 'battery', 88, 'metrics.battery', '2026-01-15T06:24:00.000Z'],
      ['lane1', 'vehicle_count', 31, 'channels.lane1.vehicle_count', '2026-01-15T06:24:00.000Z'],
      ['lane1', 'mean_speed', 84, 'channels.lane1.mean_speed', '2026-01-15T06:24:00.000Z'],
      ['dir+', 'flow', 620, 'channels.dir+.flow', '2026-01-15T06:24:00.000Z'],
    ],
  );
});

t.test('epoch milliseconds and missing ts', async (t) => {
  const ms = Date.parse('2026-01-15T06:24:00Z');
  t.equal(decode('vigie/x/telemetry', { ts: ms, metrics: { co2: 500 } }).readings[0]?.time?.getTime(), ms);
  t.equal(decode('vigie/x/telemetry', { metrics: { co2: 500 } }).readings[0]?.time, undefined, 'the normalizer will use the receive time');
});

t.test('envelope errors name the field', async (t) => {
  t.equal(decode('vigie/x/telemetry', '{"metrics":').rejects[0]?.code, 'invalid_json');
  t.equal(decode('vigie/x/telemetry', '[1,2]').rejects[0]?.code, 'invalid_envelope');
  t.match(decode('vigie/x/telemetry', { ts: 1 }).rejects[0]?.reason, /metrics.*channels/);
  const unknownKey = decode('vigie/x/telemetry', { metrics: { co2: 1 }, meta: {} }).rejects[0];
  t.equal(unknownKey?.code, 'invalid_envelope');
  t.match(unknownKey?.reason, /meta/);
  const badTs = decode('vigie/x/telemetry', { ts: 'soon', metrics: { co2: 1 } }).rejects[0];
  t.equal(badTs?.code, 'invalid_timestamp');
  t.equal(badTs?.field, 'ts');
  t.equal(decode('vigie/x/telemetry', { metrics: { co2: 1 }, channels: { lane1: 5 } }).rejects[0]?.field, 'channels.lane1');
});

t.test('wrong topic shape', async (t) => {
  t.equal(decode('vigie/x/y/telemetry', { metrics: {} }).rejects[0]?.code, 'invalid_topic');
});

t.test('vehicle records: keys, class and headway, refusals', async (t) => {
  const r = decode('vigie/tc-1/telemetry', {
    vehicles: { lane1: [{ t: '2026-01-15T06:24:00.250Z', speed: 91, headway: 7.5, heavy: false }, { t: '2026-01-15T06:24:00.251Z', speed: 90 }] },
  });
  t.same(r.rejects, []);
  t.same(
    r.readings.map((x) => [x.channel, x.metric, x.value, x.time?.toISOString()]),
    [
      ['lane1', 'vehicle_speed', 91, '2026-01-15T06:24:00.250Z'],
      ['lane1', 'vehicle_headway', 7.5, '2026-01-15T06:24:00.250Z'],
      ['lane1', 'vehicle_heavy', 0, '2026-01-15T06:24:00.250Z'],
      ['lane1', 'vehicle_speed', 90, '2026-01-15T06:24:00.251Z'],
    ],
    'one millisecond apart: two vehicles, two keys',
  );
  const zoneless = decode('vigie/tc-1/telemetry', { vehicles: { lane1: [{ t: '2026-01-15T07:24:00', speed: 91 }, { t: '2026-01-15T06:24:01Z', speed: 80 }] } });
  t.equal(zoneless.rejects[0]?.code, 'invalid_timestamp');
  t.equal(zoneless.rejects[0]?.field, 'vehicles.lane1.0.t');
  t.same(zoneless.readings.map((x) => x.value), [80], 'the other vehicle is kept');
  t.equal(decode('vigie/tc-1/telemetry', { vehicles: { lane1: [{ t: 1, speed: 1, colour: 'red' }] } }).rejects[0]?.code, 'invalid_envelope');
  t.equal(decode('vigie/tc-1/telemetry', { vehicles: { lane1: [{ t: 1, speed: 1, heavy: 'yes' }] } }).rejects[0]?.field, 'vehicles.lane1.0.heavy');
});

t.test('speed classes: bounds and counts must agree', async (t) => {
  const ok = decode('vigie/tc-1/telemetry', { ts: '2026-01-15T06:24:00Z', speedClasses: { 'dir+': { bounds: [0, 90], counts: [3, 1] } } });
  t.same(ok.readings.map((x) => [x.channel, x.metric, x.value]), [['dir+:0-90', 'light_speed_class_count', 3], ['dir+:90+', 'light_speed_class_count', 1]]);
  const short = decode('vigie/tc-1/telemetry', { ts: '2026-01-15T06:24:00Z', speedClasses: { lane1: { bounds: [0, 50, 90], counts: [3, 1] } } });
  t.equal(short.rejects[0]?.field, 'speedClasses.lane1.counts');
  const unordered = decode('vigie/tc-1/telemetry', { ts: '2026-01-15T06:24:00Z', speedClasses: { lane1: { bounds: [0, 90, 50], counts: [3, 1, 1] } } });
  t.equal(unordered.rejects[0]?.field, 'speedClasses.lane1.bounds');
});

t.test('the published JSON Schema agrees with the decoder on the golden payloads', async (t) => {
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const addFormats = (await import('ajv-formats')).default as unknown as (a: unknown) => void;
  const { readFileSync } = await import('node:fs');
  const { nativeTelemetryJsonSchema } = await import('../../../schemas/index.ts');
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(nativeTelemetryJsonSchema as object);
  const golden = (name: string) => JSON.parse(readFileSync(new URL(`./testdata/${name}/payload.json`, import.meta.url), 'utf8'));
  t.ok(validate(golden('good-message')), 'good-message');
  t.ok(validate(golden('vehicle-records')), 'vehicle-records (the duplicate is a key clash, not a shape error)');
  t.ok(validate(golden('speed-classes')), 'speed-classes');
  t.notOk(validate(golden('speed-classes-without-ts')), 'speed classes need ts');
  t.notOk(validate({ ts: '2026-10-25T02:30:00', metrics: { battery: 80 } }), 'a date-time without a zone is not an RFC 3339 date-time');
  t.equal(decode('vigie/x/telemetry', { ts: '2026-10-25T02:30:00', metrics: { battery: 80 } }).rejects[0]?.code, 'invalid_timestamp', 'and the decoder refuses it too');
});
