/**
 * Writes the binary golden payloads of the Sparkplug B decoder. Every payload is an example of
 * the Eclipse Sparkplug 3.0.0 specification (repository eclipse-sparkplug/sparkplug, tag v3.0.0,
 * file specification/src/main/asciidoc/chapters/Sparkplug_6_Payloads.adoc), written there as a
 * JSON-like description and encoded here, field for field, with the Eclipse Tahu encoder
 * (`sparkplug-payload`). Where a case changes the example (a seq, a bdSeq, a flag, the datatype
 * left out of a DATA message) the comment says which field and why; each case's README.md cites
 * its source. Run `npx tsx ingest/decoders/sparkplug-b/testdata/generate.ts` after a change;
 * topic.txt, context.json, README.md and expected.json are hand-written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sparkplug from 'sparkplug-payload';
import protoModule from 'sparkplug-payload/lib/sparkplugPayloadProto.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const spb = sparkplug.get('spBv1.0')!;
const Proto = protoModule.org.eclipse.tahu.protobuf.Payload;
type P = Parameters<typeof spb.encodePayload>[0];
type M = NonNullable<P['metrics']>[number];

const write = (name: string, file: string, bytes: Uint8Array) => {
  mkdirSync(path.join(here, name), { recursive: true });
  writeFileSync(path.join(here, name, file), Buffer.from(bytes));
};
const encode = (p: P): Uint8Array => spb.encodePayload(p);
/**
 * The same payload without the metrics' datatype: §6.4.6 Metric, tck-id-payloads-metric-datatype-not-req
 * ("The datatype SHOULD NOT be included with metric definitions in NDATA, NCMD, DDATA, and DCMD
 * messages"). Tahu's encodePayload always writes one, so it is removed from the encoded protobuf.
 */
const withoutDatatype = (p: P): Uint8Array => {
  const msg = Proto.decode(encode(p));
  for (const m of msg.metrics) delete (m as { datatype?: number }).datatype;
  return Proto.encode(msg).finish();
};

const TS = 1486144502122;
const metric = (name: string, type: M['type'], value: M['value']): M => ({ name, timestamp: TS, type, value });

// §6.4.19 NBIRTH, example payload on spBv1.0/Sparkplug B Devices/NBIRTH/Raspberry Pi.
const nbirth = (bdSeq = 0): P => ({
  timestamp: TS,
  metrics: [
    metric('bdSeq', 'Int64', bdSeq),
    metric('Node Control/Reboot', 'Boolean', false),
    metric('Node Control/Rebirth', 'Boolean', false),
    metric('Node Control/Next Server', 'Boolean', false),
    metric('Node Control/Scan Rate', 'Int64', 3000),
    metric('Properties/Hardware Make', 'String', 'Raspberry Pi'),
    metric('Properties/Hardware Model', 'String', 'Pi 3 Model B'),
    metric('Properties/OS', 'String', 'Raspbian'),
    metric('Properties/OS Version', 'String', 'Jessie with PIXEL/11.01.2017'),
    metric('Supply Voltage', 'Float', 12.1),
  ],
  seq: 0,
});
// §6.4.20 DBIRTH, example payload on spBv1.0/Sparkplug B Devices/DBIRTH/Raspberry Pi/Pibrella.
const dbirth = (seq = 1): P => ({
  timestamp: TS,
  metrics: [
    ...['Inputs/A', 'Inputs/B', 'Inputs/C', 'Inputs/D', 'Inputs/Button', 'Outputs/E', 'Outputs/F', 'Outputs/G', 'Outputs/H', 'Outputs/LEDs/Green', 'Outputs/LEDs/Red', 'Outputs/LEDs/Yellow', 'Outputs/Buzzer'].map((n) => metric(n, 'Boolean', false)),
    metric('Properties/Hardware Make', 'String', 'Pibrella'),
  ],
  seq,
});
// §6.4.21 NDATA, example payload on spBv1.0/Sparkplug B Devices/NDATA/Raspberry Pi.
const ndata = (seq = 2): P => ({ timestamp: TS, metrics: [metric('Supply Voltage', 'Float', 12.3)], seq });
// §6.4.22 DDATA, example payload on spBv1.0/Sparkplug B Devices/DDATA/Raspberry Pi/Pibrella.
const ddata = (seq = 0): P => ({ timestamp: TS, metrics: [metric('Inputs/A', 'Boolean', true), metric('Inputs/C', 'Boolean', true)], seq });
// §6.4.25 NDEATH, example payload on spBv1.0/Sparkplug B Devices/NDEATH/Raspberry Pi.
const ndeath = (): P => ({ timestamp: TS, metrics: [metric('bdSeq', 'UInt64', 0)] });
// §6.4.26 DDEATH, example payload on spBv1.0/Sparkplug B Devices/DDEATH/Raspberry Pi/Pibrella.
const ddeath = (seq = 123): P => ({ timestamp: TS, seq });

// spec-nbirth: the NBIRTH example alone.
write('spec-nbirth', 'payload.bin', encode(nbirth()));

// spec-ndata-without-datatype: NBIRTH (seq 0), DBIRTH (seq 1), then the NDATA example (seq 2)
// without its datatype, as tck-id-payloads-metric-datatype-not-req asks of an edge node.
write('spec-ndata-without-datatype', 'nbirth.bin', encode(nbirth()));
write('spec-ndata-without-datatype', 'dbirth.bin', encode(dbirth()));
write('spec-ndata-without-datatype', 'payload.bin', withoutDatatype(ndata()));

// spec-ddata-seq-wrap: the DDATA example exactly (seq 0, datatypes included); the NBIRTH and
// DBIRTH examples before it carry seq 254 and 255 (instead of 0 and 1) so that seq 0 is the
// wrap of tck-id-payloads-sequence-num-incrementing.
write('spec-ddata-seq-wrap', 'nbirth.bin', encode({ ...nbirth(), seq: 254 }));
write('spec-ddata-seq-wrap', 'dbirth.bin', encode(dbirth(255)));
write('spec-ddata-seq-wrap', 'payload.bin', encode(ddata(0)));

// ddata-without-dbirth: NBIRTH (seq 0), then the DDATA example (seq 1 instead of 0) for a
// device that published no DBIRTH: its metrics are in no BIRTH.
write('ddata-without-dbirth', 'nbirth.bin', encode(nbirth()));
write('ddata-without-dbirth', 'payload.bin', withoutDatatype(ddata(1)));

// two-devices-units: the specification has no example with engineering units. The NBIRTH
// example, then two DBIRTHs shaped like the §6.4.20 example whose metric carries the `engUnit`
// property of Eclipse Tahu's example edge node (eclipse/tahu,
// java/examples/simple/src/main/java/org/eclipse/tahu/SparkplugExample.java, publishDeviceBirth),
// with aliases (§6.4.6 alias), then an alias-only DDATA without datatype (§6.4.6).
const unitBirth = (seq: number, alias: number, type: M['type'], value: number, unit: string): P => ({
  timestamp: TS + 1000,
  metrics: [{ name: 'Temperature', alias, timestamp: TS + 1000, type, value, properties: { engUnit: { type: 'String', value: unit } } }],
  seq,
});
write('two-devices-units', 'nbirth.bin', encode(nbirth()));
write('two-devices-units', 'dbirth-pibrella.bin', encode(unitBirth(1, 1, 'Float', 68.9, 'degF')));
write('two-devices-units', 'dbirth-sense-hat.bin', encode(unitBirth(2, 2, 'Double', 20.5, '°C')));
write('two-devices-units', 'payload.bin', withoutDatatype({ timestamp: TS + 3000, metrics: [{ alias: 1, timestamp: TS + 2500, type: 'Float', value: 70.7 }], seq: 3 }));
// two-devices-units-sense-hat: the same births with the Pibrella's last, then the Sense HAT's DDATA.
write('two-devices-units-sense-hat', 'nbirth.bin', encode(nbirth()));
write('two-devices-units-sense-hat', 'dbirth-sense-hat.bin', encode(unitBirth(1, 2, 'Double', 20.5, '°C')));
write('two-devices-units-sense-hat', 'dbirth-pibrella.bin', encode(unitBirth(2, 1, 'Float', 68.9, 'degF')));
write('two-devices-units-sense-hat', 'payload.bin', withoutDatatype({ timestamp: TS + 3000, metrics: [{ alias: 2, timestamp: TS + 2500, type: 'Double', value: 20.75 }], seq: 3 }));

// seq-gap-filled and seq-gap-expired: §5.9 "Sparkplug Host Application Message Ordering" gives
// the example: seq 1, 2 and 4 arrive, then 3. The messages are the NBIRTH (0), DBIRTH (1) and
// NDATA (2, 3, 4, 5: only seq differs) examples, DATA without datatype.
for (const c of ['seq-gap-filled', 'seq-gap-expired']) {
  write(c, 'nbirth.bin', encode(nbirth()));
  write(c, 'dbirth.bin', encode(dbirth()));
  write(c, 'ndata-2.bin', withoutDatatype(ndata(2)));
  write(c, 'ndata-4.bin', withoutDatatype(ndata(4)));
}
write('seq-gap-filled', 'payload.bin', withoutDatatype(ndata(3)));
write('seq-gap-expired', 'payload.bin', withoutDatatype(ndata(5)));

// is-transient: the DDATA example with is_transient (§6.4.6 Metric) set on Inputs/A, seq 2
// (after the NBIRTH and DBIRTH examples, seq 0 and 1).
const transient = ddata(2);
transient.metrics![0] = { ...transient.metrics![0]!, isTransient: true };
write('is-transient', 'nbirth.bin', encode(nbirth()));
write('is-transient', 'dbirth.bin', encode(dbirth()));
write('is-transient', 'payload.bin', withoutDatatype(transient));

// ndeath-offline: the NDEATH example (bdSeq 0) after the NBIRTH (bdSeq 0) and DBIRTH examples.
write('ndeath-offline', 'nbirth.bin', encode(nbirth()));
write('ndeath-offline', 'dbirth.bin', encode(dbirth()));
write('ndeath-offline', 'payload.bin', encode(ndeath()));

// ndeath-stale-bdseq: the NBIRTH example (bdSeq 0), a newer session's NBIRTH (bdSeq 1: "any new
// CONNECT packet must increment the bdSeq number", §6.4.25), then the NDEATH example (bdSeq 0).
write('ndeath-stale-bdseq', 'nbirth-0.bin', encode(nbirth(0)));
write('ndeath-stale-bdseq', 'nbirth-1.bin', encode(nbirth(1)));
write('ndeath-stale-bdseq', 'payload.bin', encode(ndeath()));

// ddeath-offline: the DDEATH example with seq 2 instead of 123 (the next after the NBIRTH and
// DBIRTH examples, seq 0 and 1).
write('ddeath-offline', 'nbirth.bin', encode(nbirth()));
write('ddeath-offline', 'dbirth.bin', encode(dbirth()));
write('ddeath-offline', 'payload.bin', encode(ddeath(2)));

// data-before-birth: the NDATA example exactly, from a node whose NBIRTH was never received.
write('data-before-birth', 'payload.bin', encode(ndata()));
