/**
 * Writes the binary golden payloads of the Sparkplug B decoder with the Eclipse Tahu encoder
 * (`sparkplug-payload`). Run `npx tsx ingest/decoders/sparkplug-b/testdata/generate.ts` after
 * changing a message; context.json and topic.txt of each case are hand-written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sparkplug from 'sparkplug-payload';

const here = path.dirname(fileURLToPath(import.meta.url));
const spb = sparkplug.get('spBv1.0')!;
type P = Parameters<typeof spb.encodePayload>[0];
const T0 = Date.parse('2026-01-15T08:00:00Z');
const write = (name: string, file: string, payload: P | Buffer) => {
  mkdirSync(path.join(here, name), { recursive: true });
  writeFileSync(path.join(here, name, file), Buffer.isBuffer(payload) ? payload : spb.encodePayload(payload));
};

const nbirth = (seq: number, bdSeq: number): P => ({
  timestamp: T0 - 2000,
  seq,
  metrics: [
    { name: 'bdSeq', type: 'UInt64', value: bdSeq },
    { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
    { name: 'Properties/Hardware Make', type: 'String', value: 'Acme Edge 4' },
    { name: 'Boiler/Supply Temperature', alias: 10, type: 'Float', value: 68.5, properties: { engUnit: { type: 'String', value: '°C' } } },
    { name: 'Boiler/Running', alias: 11, type: 'Boolean', value: true },
  ],
});
const dbirth = (seq: number): P => ({
  timestamp: T0 - 1000,
  seq,
  metrics: [
    { name: 'Sensors/Temperature', alias: 20, type: 'Double', value: 68.9, properties: { engUnit: { type: 'String', value: 'degF' } } },
    { name: 'Sensors/Humidity', alias: 21, type: 'Float', value: 44 },
    { name: 'Sensors/CO2', alias: 22, type: 'UInt32', value: 780 },
    { name: 'Meter/Energy', alias: 23, type: 'Int64', value: 1234567, properties: { engUnit: { type: 'String', value: 'Wh' } } },
  ],
});

// 1. BIRTHs then DDATA carrying aliases only.
write('birth-then-alias-data', 'nbirth.bin', nbirth(0, 3));
write('birth-then-alias-data', 'dbirth.bin', dbirth(1));
write('birth-then-alias-data', 'payload.bin', {
  timestamp: T0,
  seq: 2,
  metrics: [
    { alias: 20, type: 'Double', value: 70.7 },
    { alias: 22, type: 'UInt32', value: 812 },
    { alias: 23, type: 'Int64', value: 1234890 },
    { alias: 21, type: 'Float', value: null, isNull: true },
  ],
});
// 2. The NBIRTH alone yields the node's current values and marks it online.
write('nbirth-online', 'payload.bin', nbirth(0, 7));
// 3. DATA from a node never seen born: rebirth requested, alias-only metrics unknown.
write('data-before-birth', 'payload.bin', { timestamp: T0, seq: 5, metrics: [{ alias: 10, type: 'Float', value: 70 }, { name: 'Boiler/Running', type: 'Boolean', value: true }] });
// 4. A seq gap: values are still good (aliases known), but a rebirth is requested.
write('seq-gap', 'nbirth.bin', nbirth(250, 1));
write('seq-gap', 'payload.bin', { timestamp: T0, seq: 253, metrics: [{ alias: 10, type: 'Float', value: 71.25 }] });
// 5. seq wraps 255 -> 0 without a gap.
write('seq-wrap', 'nbirth.bin', nbirth(255, 1));
write('seq-wrap', 'payload.bin', { timestamp: T0, seq: 0, metrics: [{ alias: 11, type: 'Boolean', value: false }] });
// 6. DDEATH marks the device offline.
write('ddeath-offline', 'nbirth.bin', nbirth(0, 3));
write('ddeath-offline', 'dbirth.bin', dbirth(1));
write('ddeath-offline', 'payload.bin', { timestamp: T0, seq: 2, metrics: [] });
// 7. NDEATH of the current session: the node and its devices go offline.
write('ndeath-offline', 'nbirth.bin', nbirth(0, 3));
write('ndeath-offline', 'dbirth.bin', dbirth(1));
write('ndeath-offline', 'payload.bin', { timestamp: T0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 3 }] });
// 8. NDEATH of an older session (a late will): ignored.
write('ndeath-stale-bdseq', 'nbirth.bin', nbirth(0, 4));
write('ndeath-stale-bdseq', 'payload.bin', { timestamp: T0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 3 }] });
// 9. Historical metrics keep their own timestamps (store-and-forward after a link loss).
write('historical-timestamps', 'nbirth.bin', nbirth(0, 3));
write('historical-timestamps', 'payload.bin', {
  timestamp: T0,
  seq: 1,
  metrics: [
    { alias: 10, type: 'Float', value: 66, timestamp: T0 - 3_600_000, isHistorical: true },
    { alias: 10, type: 'Float', value: 67, timestamp: T0 - 1_800_000, isHistorical: true },
    { alias: 10, type: 'Float', value: 69.5 },
  ],
});
// 10. Not a protobuf at all.
write('garbage', 'payload.bin', Buffer.from('{"temperature": 21}'));
