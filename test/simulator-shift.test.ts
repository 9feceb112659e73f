/**
 * The replay's time shift on the decoders' golden payloads (real examples from the standards'
 * documents, see each case's README): after a +1 h shift, every time field of the wire format
 * has moved by exactly one hour, in its own form, and nothing else has changed; relative SenML
 * times stay relative. Pure functions on bytes, so no broker is needed here (the replay through
 * the broker is test/simulator-replay.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Decoder } from 'cbor-x';
import protoModule from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import t from 'tap';
import { shiftIso, shiftPayload } from '../simulators/recordings/shift.ts';

const H = 3_600_000;
const golden = (format: string, name: string, file = 'payload.json') => {
  const dir = path.resolve('ingest/decoders', format, 'testdata', name);
  return { topic: readFileSync(path.join(dir, 'topic.txt'), 'utf8').trim(), payload: readFileSync(path.join(dir, file)) };
};

/** Leaf differences between two JSON values: [path, before, after]. */
function diff(a: unknown, b: unknown, p = ''): Array<[string, unknown, unknown]> {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${p}/${k}`));
  }
  return a === b ? [] : [[p, a, b]];
}

const movedByHour = (before: unknown, after: unknown) =>
  typeof before === 'string' ? shiftIso(before, H) === after && Date.parse(after as string) - Date.parse(before) === H : typeof before === 'number' && ((after as number) - before === 3600 || (after as number) - before === H);

t.test('ISO strings keep their zone and precision', async (t) => {
  t.equal(shiftIso('2020-08-20T08:28:40.123456789Z', H), '2020-08-20T09:28:40.123456789Z');
  t.equal(shiftIso('2023-10-05T11:22:33.456+02:00', -24 * H), '2023-10-04T11:22:33.456+02:00');
  t.equal(shiftIso('2026-01-15T07:00:00', 30 * 60_000), '2026-01-15T07:30:00');
  t.equal(shiftIso('2016-11-30T07:00:00.00Z', H), '2016-11-30T08:00:00.00Z');
  t.equal(shiftIso('2016-11-30T07:00:00Z', 1), '2016-11-30T07:00:00.001Z');
  t.equal(shiftIso('not a date', H), undefined);
});

for (const [format, name, fields] of [
  ['ttn-v3', 'tts-docs-uplink', ['/received_at', '/uplink_message/received_at']],
  ['chirpstack-v4', 'docs-up-event', ['/time']],
  ['ngsi', 'iot-agent-timeinstant', ['/0/temperature/metadata/TimeInstant/value']],
  ['ngsi', 'sdm-traffic-keyvalues-v2', ['/dateObservedFrom', '/dateObservedTo']],
  ['ngsi', 'sdm-weather-normalized-ld', ['/dateObserved/value/@value']],
  ['native', 'vehicle-records', ['/vehicles/lane1/0/t']],
] as const) {
  t.test(`${format} ${name}: time fields move by exactly one hour, nothing else`, async (t) => {
    const g = golden(format, name);
    const before = JSON.parse(g.payload.toString());
    const after = JSON.parse(shiftPayload(g.topic, g.payload, H).toString());
    const changes = diff(before, after);
    t.ok(changes.length > 0, 'something moved');
    for (const [p, x, y] of changes) t.ok(movedByHour(x, y), `${p}: ${String(x)} -> ${String(y)}`);
    for (const f of fields) t.ok(changes.some(([p]) => p === f || p.startsWith(`${f}/`)), `${f} moved`);
  });
}

t.test('SenML: absolute base time moves, relative times do not', async (t) => {
  const abs = golden('senml', 'rfc8428-5.1.3-multiple-measurements');
  const changes = diff(JSON.parse(abs.payload.toString()), JSON.parse(shiftPayload(abs.topic, abs.payload, H).toString()));
  t.same(changes.map(([p]) => p), ['/0/bt'], 'only bt, once (the t of later records are relative to it)');
  t.ok(movedByHour(changes[0]![1], changes[0]![2]));
  const noBase = golden('senml', 'rfc8428-5.1.4-resolved-data');
  const each = diff(JSON.parse(noBase.payload.toString()), JSON.parse(shiftPayload(noBase.topic, noBase.payload, H).toString()));
  t.ok(each.length > 3 && each.every(([p, x, y]) => p.endsWith('/t') && movedByHour(x, y)), 'absolute t of every record, without a base time');
  const rel = golden('senml', 'relative-time-kelvin');
  t.same(diff(JSON.parse(rel.payload.toString()), JSON.parse(shiftPayload(rel.topic, rel.payload, H).toString())), [], 'relative times untouched');
  const cbor = golden('senml', 'rfc8428-6-cbor-representation', 'payload.bin');
  const dec = new Decoder({ mapsAsObjects: false, useRecords: false });
  const [b0, a0] = [dec.decode(cbor.payload), dec.decode(shiftPayload(cbor.topic, cbor.payload, H))] as Array<Array<Map<number, unknown>>>;
  t.equal((a0![0]!.get(-3) as number) - (b0![0]!.get(-3) as number), 3600, 'CBOR label -3 (bt) moved');
});

t.test('Sparkplug: payload and metric timestamps move, values and seq do not', async (t) => {
  const Proto = protoModule.org.eclipse.tahu.protobuf.Payload;
  const g = golden('sparkplug-b', 'ndeath-offline', 'nbirth.bin');
  const topic = 'spBv1.0/g/NBIRTH/n';
  const before = Proto.toObject(Proto.decode(g.payload), { longs: Number }) as { timestamp: number; seq: number; metrics: Array<{ timestamp?: number; name?: string }> };
  const after = Proto.toObject(Proto.decode(shiftPayload(topic, g.payload, H)), { longs: Number }) as typeof before;
  t.equal(after.timestamp - before.timestamp, H);
  t.equal(after.seq, before.seq);
  t.same(after.metrics.map((m) => (m.timestamp ?? 0) - (before.metrics.find((x) => x.name === m.name)?.timestamp ?? 0)), before.metrics.map((m) => (m.timestamp === undefined ? 0 : H)));
});
