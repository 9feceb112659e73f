/**
 * The Sparkplug B decoder against the text of Eclipse Sparkplug 3.0.0 (eclipse-sparkplug/sparkplug,
 * tag v3.0.0, specification/src/main/asciidoc/chapters/Sparkplug_5_Operational_Behavior.adoc and
 * Sparkplug_6_Payloads.adoc), where the golden cases cannot show it: the decoded values of metrics
 * Vigie's catalogue has no name for (a test profile maps them), each datatype of §6.4.17, the NCMD
 * of §6.4.23, the reorder timer and the omission counters.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sparkplug from 'sparkplug-payload';
import protoModule from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import t from 'tap';
import type { DecodeContext, DecodeResult, Decoder } from '../ingest/decoder.ts';
import { counts, createSparkplugDecoder, expireSparkplugReorder } from '../ingest/decoders/sparkplug-b/index.ts';
import { deviceProfileSchema, deviceSchema, type DeviceProfile } from '../schemas/index.ts';
import { DECODERS_DIR } from './helpers/golden.ts';

const spb = sparkplug.get('spBv1.0')!;
const Proto = protoModule.org.eclipse.tahu.protobuf.Payload;
type P = Parameters<typeof spb.encodePayload>[0];
const TESTDATA = path.join(DECODERS_DIR, 'sparkplug-b', 'testdata');
const bin = (c: string, f: string) => readFileSync(path.join(TESTDATA, c, f));
const G = 'spBv1.0/Sparkplug B Devices';

/** A test profile naming the spec examples' metrics with catalogue metrics, so their values reach the readings. */
const specProfile: DeviceProfile = deviceProfileSchema.parse({
  name: 'spec-examples',
  keys: { 'Supply Voltage': { metric: 'battery' }, 'Inputs/A': { metric: 'fault' }, 'Inputs/C': { metric: 'boiler_state' }, Value: { metric: 'power', unit: 'kW' } },
  ignore: [],
});

function harness(reorderTimeoutMs = 2000) {
  const states = new Map<string, Map<string, unknown>>();
  const decoder: Decoder = createSparkplugDecoder({ rebirthMinIntervalMs: 0, reorderTimeoutMs });
  const ctx = (now: Date): DecodeContext => ({
    now,
    device: (id) => deviceSchema.parse({ id, kind: 'gateway', domain: 'buildings', profile: 'spec-examples' }),
    profile: (name) => (name === 'spec-examples' ? specProfile : undefined),
    state: (d) => {
      let s = states.get(d);
      if (!s) states.set(d, (s = new Map()));
      return s;
    },
  });
  const send = (topic: string, payload: Uint8Array, at = new Date('2026-01-15T08:00:00Z')): DecodeResult =>
    decoder.decode({ topic, payload: Buffer.from(payload), receivedAt: at }, ctx(at));
  return { send, states: () => states.get('sparkplug-b') ?? new Map<string, unknown>() };
}

const values = (r: DecodeResult) => Object.fromEntries(r.readings.map((x) => [x.metric, x.value]));

t.test('§6.4.19-§6.4.22 examples: DATA without datatype decoded with the BIRTH datatypes', async (t) => {
  const h = harness();
  const birth = h.send(`${G}/NBIRTH/Raspberry Pi`, bin('spec-ndata-without-datatype', 'nbirth.bin'));
  t.same(values(birth), { battery: 12.1 }, 'NBIRTH Supply Voltage Float 12.1 (7 significant digits of the float)');
  h.send(`${G}/DBIRTH/Raspberry Pi/Pibrella`, bin('spec-ndata-without-datatype', 'dbirth.bin'));
  const payload = bin('spec-ndata-without-datatype', 'payload.bin');
  t.notOk(Object.prototype.hasOwnProperty.call(Proto.decode(payload).metrics[0], 'datatype'), 'the golden NDATA carries no datatype');
  t.equal(spb.decodePayload(payload).metrics?.[0]?.value, null, "Tahu's decodePayload alone loses the value");
  const data = h.send(`${G}/NDATA/Raspberry Pi`, payload);
  t.same(data.rejects, []);
  t.same(values(data), { battery: 12.3 }, 'NDATA Supply Voltage 12.3 read as the NBIRTH Float');
  t.equal(data.readings[0]?.time?.toISOString(), '2017-02-03T17:55:02.122Z', 'metric timestamp');
  const dd = h.send(`${G}/DDATA/Raspberry Pi/Pibrella`, spb.encodePayload({ timestamp: 1486144502122, seq: 3, metrics: [{ name: 'Inputs/A', timestamp: 1486144502122, type: 'Boolean', value: true }, { name: 'Inputs/C', timestamp: 1486144502122, type: 'Boolean', value: true }] }));
  t.same(values(dd), { fault: 1, boiler_state: 1 }, 'DDATA example (datatypes included, equal to the DBIRTH)');
});

/** A BIRTH declaring one metric `Value` (alias 1) of the given datatype, then a DATA with raw protobuf value fields. */
function roundTrip(datatype: number, birthValue: Record<string, unknown>, dataValue: Record<string, unknown>): DecodeResult {
  const h = harness();
  const nb = Proto.encode(Proto.create({ timestamp: 1, seq: 0, metrics: [{ name: 'bdSeq', datatype: 4, longValue: 0 }, { name: 'Value', alias: 1, datatype, ...birthValue }] })).finish();
  h.send('spBv1.0/g/NBIRTH/n', nb);
  return h.send('spBv1.0/g/NDATA/n', Proto.encode(Proto.create({ timestamp: 2, seq: 1, metrics: [{ alias: 1, ...dataValue }] })).finish());
}

t.test('§6.4.17 datatypes: integers by their width and sign, whichever value field carries them', async (t) => {
  const cases: Array<[string, number, Record<string, unknown>, number | boolean]> = [
    ['Int8 -23 sign-extended in int_value', 1, { intValue: 0xffffffe9 }, -23],
    ['Int8 -23 as one byte in int_value', 1, { intValue: 0xe9 }, -23],
    ['Int16 -30000', 2, { intValue: 0xffff8ad0 }, -30000],
    ['Int32 -1', 3, { intValue: 0xffffffff }, -1],
    ['Int64 -4270929666', 4, { longValue: -4270929666 }, -4270929666],
    ['UInt8 250', 5, { intValue: 250 }, 250],
    ['UInt16 52360', 6, { intValue: 52360 }, 52360],
    ['UInt32 3293969225 in int_value (§6.4.17)', 7, { intValue: 3293969225 }, 3293969225],
    ['UInt32 3293969225 in long_value (Tahu JavaScript)', 7, { longValue: 3293969225 }, 3293969225],
    ['UInt64 987654321098', 8, { longValue: 987654321098 }, 987654321098],
    ['Float 1.23', 9, { floatValue: 1.23 }, 1.23],
    ['Double 1022.9123213', 10, { doubleValue: 1022.9123213 }, 1022.9123213],
    ['Boolean true', 11, { booleanValue: true }, 1],
  ];
  for (const [what, datatype, field, expected] of cases) {
    const r = roundTrip(datatype, field, field);
    t.same(r.rejects, [], `${what}: no reject`);
    t.equal(r.readings.at(-1)?.value, expected, what);
  }
  const big = roundTrip(8, { longValue: 0 }, { longValue: '18446744073709551615' });
  t.match(big.rejects[0], { code: 'invalid_value', reason: /UInt64 18446744073709551615 is beyond 2\^53/ }, 'a UInt64 a float8 cannot hold exactly is a dead letter, not a rounded value');
  const wrong = roundTrip(9, { floatValue: 1 }, { doubleValue: 2 });
  t.match(wrong.rejects[0], { code: 'invalid_value', reason: /a Float value is expected, the metric carries doubleValue/ });
  const typed = roundTrip(9, { floatValue: 1 }, { datatype: 10, doubleValue: 2 });
  t.match(typed.rejects[0], { code: 'invalid_value', reason: /datatype Double differs from the Float its BIRTH declared/ });
});

t.test('not stored, counted: String, DateTime, DataSet..., is_transient, is_null, control metrics', async (t) => {
  const h = harness();
  const nb = Proto.encode(
    Proto.create({
      timestamp: 1,
      seq: 0,
      metrics: [
        { name: 'bdSeq', datatype: 4, longValue: 0 },
        { name: 'Node Control/Rebirth', datatype: 11, booleanValue: false },
        { name: 'Label', alias: 1, datatype: 12, stringValue: 'x' },
        { name: 'Since', alias: 2, datatype: 13, longValue: 1486144502122 },
        { name: 'Value', alias: 3, datatype: 10, doubleValue: 1, isTransient: true },
        { name: 'Value', alias: 4, datatype: 10, isNull: true },
        { name: 'Table', alias: 5, datatype: 16, datasetValue: { numOfColumns: 0, columns: [], types: [] } },
      ],
    }),
  ).finish();
  const r = h.send('spBv1.0/g/NBIRTH/n', nb);
  t.same(r.readings, []);
  t.same(r.rejects, []);
  t.same(Object.fromEntries(counts(h.states())), {
    'omitted:control': 2,
    'omitted:datatype String': 1,
    'omitted:datatype DateTime': 1,
    'omitted:is_transient': 1,
    'omitted:is_null': 1,
    'omitted:datatype DataSet': 1,
  });
});

t.test('§6.4.23 NCMD example: the rebirth request Vigie publishes', async (t) => {
  const h = harness();
  const r = h.send(`${G}/NDATA/Raspberry Pi`, bin('data-before-birth', 'payload.bin'));
  const cmd = r.commands?.[0];
  t.equal(cmd?.topic, 'spBv1.0/Sparkplug B Devices/NCMD/Raspberry Pi');
  t.equal(cmd?.qos, 0, 'tck-id-payloads-ncmd-qos');
  const p = Proto.decode(cmd!.payload);
  t.ok(Object.prototype.hasOwnProperty.call(p, 'timestamp'), 'payload timestamp (tck-id-payloads-ncmd-timestamp)');
  t.notOk(Object.prototype.hasOwnProperty.call(p, 'seq'), 'no seq (tck-id-payloads-ncmd-seq)');
  const decoded = spb.decodePayload(cmd!.payload);
  t.match(decoded.metrics, [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }]);
  t.ok(decoded.metrics?.[0]?.timestamp !== undefined, 'metric timestamp, as in the example');
});

t.test('§5.9 reorder timeout: the timer expires a gap when the node falls silent', async (t) => {
  const h = harness(2000);
  const at = (ms: number) => new Date(Date.parse('2026-01-15T08:00:00Z') + ms);
  h.send(`${G}/NBIRTH/Raspberry Pi`, bin('seq-gap-expired', 'nbirth.bin'), at(0));
  h.send(`${G}/DBIRTH/Raspberry Pi/Pibrella`, bin('seq-gap-expired', 'dbirth.bin'), at(10));
  h.send(`${G}/NDATA/Raspberry Pi`, bin('seq-gap-expired', 'ndata-2.bin'), at(20));
  const four = h.send(`${G}/NDATA/Raspberry Pi`, bin('seq-gap-expired', 'ndata-4.bin'), at(30));
  t.same(four.commands, [], 'no rebirth while the window is open');
  t.same(values(four), { battery: 12.3 }, 'the early message is stored at once');
  t.same(expireSparkplugReorder(h.states(), at(1000), { reorderTimeoutMs: 2000 }), [], 'not yet expired');
  const expired = expireSparkplugReorder(h.states(), at(2100), { reorderTimeoutMs: 2000, rebirthMinIntervalMs: 0 });
  t.equal(expired.length, 1);
  t.equal(expired[0]?.topic, `${G}/NDATA/Raspberry Pi`, 'recorded with the message that revealed the gap');
  t.ok(expired[0]?.payload.equals(bin('seq-gap-expired', 'ndata-4.bin')));
  t.match(expired[0]?.reject, { code: 'sequence_error', field: 'seq', reason: /seq 3 did not arrive within the reorder timeout/ });
  t.equal(expired[0]?.commands[0]?.topic, 'spBv1.0/Sparkplug B Devices/NCMD/Raspberry Pi');
  t.same(expireSparkplugReorder(h.states(), at(5000), { reorderTimeoutMs: 2000 }), [], 'expired once');
  t.same(Object.fromEntries(counts(h.states())), { 'omitted:control': 10, 'reorder:expired': 1 }, 'bdSeq, Node Control/* and Properties/* of the two BIRTHs');
});

t.test('§5.9: a DDATA whose DBIRTH is in the gap waits for the timeout before asking a rebirth', async (t) => {
  const h = harness(2000);
  const at = (ms: number) => new Date(Date.parse('2026-01-15T08:00:00Z') + ms);
  h.send(`${G}/NBIRTH/Raspberry Pi`, bin('seq-gap-expired', 'nbirth.bin'), at(0));
  const early = h.send(`${G}/DDATA/Raspberry Pi/Pibrella`, bin('is-transient', 'payload.bin'), at(10));
  t.same(early.commands, [], 'the missing seq 1 may be the DBIRTH');
  t.match(early.rejects, [{ code: 'unknown_alias', reason: /a seq gap is open: rebirth requested if it is not filled within the reorder timeout/ }]);
  const late = h.send(`${G}/DBIRTH/Raspberry Pi/Pibrella`, bin('seq-gap-expired', 'dbirth.bin'), at(500));
  t.same(late.commands, [], 'the DBIRTH filled the gap: no rebirth');
  t.same(Object.fromEntries(counts(h.states())), { 'omitted:control': 10, 'reorder:filled': 1 });
  const again = h.send(`${G}/DDATA/Raspberry Pi/Pibrella`, spb.encodePayload({ timestamp: 1486144502122, seq: 3, metrics: [{ name: 'Inputs/A', timestamp: 1486144502122, type: 'Boolean', value: false }] }), at(600));
  t.same(values(again), { fault: 0 }, 'decoded after the DBIRTH');
});

t.test('reordered DBIRTH/DDEATH keep the newest session state; §5.5 duplicate NDEATH ignored', async (t) => {
  const h = harness(2000);
  const at = (ms: number) => new Date(Date.parse('2026-01-15T08:00:00Z') + ms);
  const dbirth = (seq: number, unit: string): P => ({ timestamp: 1000 + seq, seq, metrics: [{ name: 'Value', alias: 1, type: 'Double', value: 1, properties: { engUnit: { type: 'String', value: unit } } }] });
  h.send('spBv1.0/g/NBIRTH/n', spb.encodePayload({ timestamp: 1000, seq: 0, metrics: [{ name: 'bdSeq', type: 'Int64', value: 7 }] }), at(0));
  h.send('spBv1.0/g/DBIRTH/n/d', spb.encodePayload(dbirth(1, 'W')), at(1));
  // seq 2 DDEATH and seq 3 DBIRTH swapped on the way.
  h.send('spBv1.0/g/DBIRTH/n/d', spb.encodePayload(dbirth(3, 'kW')), at(2));
  const death = h.send('spBv1.0/g/DDEATH/n/d', spb.encodePayload({ timestamp: 1002, seq: 2 }), at(3));
  t.same(death.rejects, [], 'the DDEATH filled the gap');
  t.same(death.deviceStatus?.map((s) => [s.online, s.at.getTime()]), [[false, 1002]], 'its status carries its own timestamp (the store keeps the newest)');
  const data = h.send('spBv1.0/g/DDATA/n/d', Proto.encode(Proto.create({ timestamp: 1004, seq: 4, metrics: [{ alias: 1, doubleValue: 2.5 }] })).finish(), at(4));
  t.same(values(data), { power: 2.5 }, 'decoded with the newer DBIRTH (kW), not the older one (W)');
  const nd = h.send('spBv1.0/g/NDEATH/n', spb.encodePayload({ timestamp: 900, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 7 }] }), at(5));
  t.same(nd.deviceStatus?.map((s) => [s.deviceId, s.online, s.at.toISOString()]), [
    ['g:n', false, at(5).toISOString()],
    ['g:n:d', false, at(5).toISOString()],
  ], 'node and its online device offline at the receive time');
  const will = h.send('spBv1.0/g/NDEATH/n', spb.encodePayload({ timestamp: 900, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 7 }] }), at(6));
  t.same(will.deviceStatus, [], 'the will after the NDEATH changes nothing');
  t.match(will.rejects, [{ code: 'sequence_error', field: 'bdSeq', reason: /second NDEATH of session 7/ }]);
});

t.test('tck-id-payloads-sequence-num-always-included: a DATA without seq asks one rebirth and keeps its values', async (t) => {
  const h = harness();
  h.send(`${G}/NBIRTH/Raspberry Pi`, bin('spec-ndata-without-datatype', 'nbirth.bin'));
  const r = h.send(`${G}/NDATA/Raspberry Pi`, Proto.encode(Proto.create({ timestamp: 1486144502122, metrics: [{ name: 'Supply Voltage', timestamp: 1486144502122, floatValue: 12.2 }] })).finish());
  t.match(r.rejects, [{ code: 'sequence_error', field: 'seq', reason: /expected 0-255, got undefined/ }]);
  t.equal(r.commands?.length, 1, 'one rebirth request');
  t.same(values(r), { battery: 12.2 });
  const unknown = h.send(`${G}/NDATA/Raspberry Pi`, Proto.encode(Proto.create({ timestamp: 1486144502122, metrics: [{ alias: 99, floatValue: 1 }] })).finish());
  t.equal(unknown.commands?.length, 1, 'missing seq and unknown alias in one message: still one request');
  t.equal(unknown.rejects.length, 2);
});

t.test('tck-id-payloads-alias-uniqueness: an alias reused across the node is reported, every device still decodes', async (t) => {
  const h = harness();
  const dbirth = (seq: number, alias: number) => spb.encodePayload({ timestamp: 1, seq, metrics: [{ name: 'Value', alias, type: 'Float', value: 2 }] });
  h.send('spBv1.0/g/NBIRTH/n', spb.encodePayload({ timestamp: 1, seq: 0, metrics: [{ name: 'bdSeq', type: 'Int64', value: 0 }, { name: 'Value', alias: 1, type: 'Double', value: 1 }] }));
  t.same(h.send('spBv1.0/g/DBIRTH/n/d1', dbirth(1, 2)).rejects, []);
  t.same(h.send('spBv1.0/g/DBIRTH/n/d1', dbirth(2, 2)).rejects, [], "a device's rebirth reusing its own alias is no clash");
  t.match(h.send('spBv1.0/g/DBIRTH/n/d2', dbirth(3, 1)).rejects, [{ code: 'invalid_envelope', reason: /alias 1 already used by another metric of node g\/n/ }], 'the node uses alias 1');
  t.match(h.send('spBv1.0/g/DBIRTH/n/d3', dbirth(4, 2)).rejects, [{ code: 'invalid_envelope', reason: /alias 2 already used/ }], 'device d1 uses alias 2');
  const nd = h.send('spBv1.0/g/NDATA/n', Proto.encode(Proto.create({ timestamp: 2, seq: 5, metrics: [{ alias: 1, doubleValue: 3.5 }] })).finish());
  t.same(values(nd), { power: 3.5 }, 'the node reads alias 1 as its Double');
  const dd = h.send('spBv1.0/g/DDATA/n/d2', Proto.encode(Proto.create({ timestamp: 2, seq: 6, metrics: [{ alias: 1, floatValue: 4.5 }] })).finish());
  t.same(values(dd), { power: 4.5 }, 'device d2 reads alias 1 as its Float');
});

t.test('§5.15: DATA after the NDEATH, before a new NBIRTH, asks a rebirth and says so', async (t) => {
  const h = harness();
  h.send(`${G}/NBIRTH/Raspberry Pi`, bin('ndeath-offline', 'nbirth.bin'));
  h.send(`${G}/NDEATH/Raspberry Pi`, bin('ndeath-offline', 'payload.bin'));
  const r = h.send(`${G}/NDATA/Raspberry Pi`, bin('data-before-birth', 'payload.bin'));
  t.match(r.rejects, [{ code: 'sequence_error', reason: /^NDATA after the NDEATH of node Sparkplug B Devices\/Raspberry Pi: / }]);
  t.equal(r.commands?.length, 1);
});
