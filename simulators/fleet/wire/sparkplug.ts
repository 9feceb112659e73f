/**
 * A Sparkplug B edge node (Eclipse Sparkplug 3.0.0) of a school's building-management system, as
 * an encoder: NBIRTH/DBIRTH with aliases, datatypes and the bdSeq of the session, NDATA/DDATA
 * by alias only and without datatype (§6.4.6 Metric, tck-id-payloads-alias-data-cmd-requirement
 * and tck-id-payloads-metric-datatype-not-req), a timestamp on every metric
 * (tck-id-payloads-name-birth-data-requirement), report by exception (§5.16), seq 0-255 wrapping, NDEATH carrying the bdSeq (also the session's will, set by the
 * publisher), and a rebirth (new session, bdSeq + 1) after a reboot. Payloads are encoded with
 * the Eclipse Tahu library; timestamps are the simulated clock's.
 */
import sparkplug from 'sparkplug-payload';
import protoModule from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import type { NativeMessage } from '../models/index.ts';
import type { WireMessage } from './lorawan.ts';

const spb = sparkplug.get('spBv1.0')!;
const Proto = protoModule.org.eclipse.tahu.protobuf.Payload;
type Payload = Parameters<typeof spb.encodePayload>[0];
type Metric = NonNullable<Payload['metrics']>[number];

/** A DATA payload as a 3.0 edge node sends it: Tahu's encoder always writes the datatype, so it is removed. */
function encodeData(payload: Payload): Buffer {
  const msg = Proto.decode(spb.encodePayload(payload));
  for (const m of msg.metrics) delete (m as { datatype?: number }).datatype;
  return Buffer.from(Proto.encode(msg).finish());
}

/** Sparkplug point paths of the node (boiler) and of its devices (room sensors), with aliases. */
const NODE_POINTS: Array<{ name: string; alias: number; type: Metric['type']; from: string; unit?: string }> = [
  { name: 'Boiler/Supply Temperature', alias: 1, type: 'Float', from: 'supply_temperature', unit: '°C' },
  { name: 'Boiler/Return Temperature', alias: 2, type: 'Float', from: 'return_temperature', unit: '°C' },
  { name: 'Boiler/Running', alias: 3, type: 'Boolean', from: 'boiler_state' },
  { name: 'Boiler/Fault', alias: 4, type: 'Boolean', from: 'fault' },
];
const DEVICE_POINTS: Array<{ name: string; type: Metric['type']; from: string; unit?: string; toWire?: (v: number) => number }> = [
  // This vendor reports room temperature in Fahrenheit, with the unit as a property.
  { name: 'Sensors/Temperature', type: 'Double', from: 'air_temperature', unit: 'degF', toWire: (c) => Math.round(((c * 9) / 5) * 10 + 320) / 10 },
  { name: 'Sensors/Humidity', type: 'Float', from: 'relative_humidity' },
  { name: 'Sensors/CO2', type: 'UInt32', from: 'co2' },
];

export class SparkplugNodeEncoder {
  private seq = 0;
  bdSeq = 0;
  private born = false;
  private last: { node?: NativeMessage; devices: Map<string, NativeMessage> } = { devices: new Map() };

  constructor(
    readonly group: string,
    readonly node: string,
    readonly devices: string[],
  ) {}

  topic(type: string, device?: string): string {
    return `spBv1.0/${this.group}/${type}/${this.node}${device ? `/${device}` : ''}`;
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  /** The NDEATH of the current session (also its MQTT will). */
  death(t: number): WireMessage {
    return { topic: this.topic('NDEATH'), payload: Buffer.from(spb.encodePayload({ timestamp: t, metrics: [{ name: 'bdSeq', type: 'UInt64', value: this.bdSeq, timestamp: t }] })) };
  }

  /** NBIRTH then one DBIRTH per device with the last known values (seq restarts at 0). */
  births(t: number): WireMessage[] {
    this.seq = 0;
    this.born = true;
    const nodeValues = this.last.node?.metrics ?? {};
    const out: WireMessage[] = [
      {
        topic: this.topic('NBIRTH'),
        payload: Buffer.from(
          spb.encodePayload({
            timestamp: t,
            seq: this.nextSeq(),
            metrics: [
              { name: 'bdSeq', type: 'UInt64', value: this.bdSeq, timestamp: t },
              { name: 'Node Control/Rebirth', type: 'Boolean', value: false, timestamp: t },
              { name: 'Properties/Hardware Make', type: 'String', value: 'Vigie simulated GTB edge', timestamp: t },
              ...NODE_POINTS.map((p) => this.metric(p.name, p.alias, p.type, nodeValues[p.from], t, p.unit)),
            ],
          }),
        ),
      },
    ];
    for (const [i, device] of this.devices.entries()) {
      const values = this.last.devices.get(device)?.metrics ?? {};
      out.push({
        topic: this.topic('DBIRTH', device),
        payload: Buffer.from(
          spb.encodePayload({
            timestamp: t,
            seq: this.nextSeq(),
            metrics: DEVICE_POINTS.map((p, j) => this.metric(p.name, 100 + i * 10 + j, p.type, values[p.from] === undefined ? undefined : (p.toWire ?? ((x) => x))(values[p.from]!), t, p.unit)),
          }),
        ),
      });
    }
    return out;
  }

  /** A gateway reboot: the session dies (NDEATH), a new one starts with bdSeq + 1 and births. */
  reboot(t: number): WireMessage[] {
    const death = this.death(t);
    this.bdSeq = (this.bdSeq + 1) % 256;
    return [death, ...this.births(t + 1000)];
  }

  private metric(name: string, alias: number, type: Metric['type'], value: number | undefined, timestamp: number, unit?: string): Metric {
    const v = value === undefined ? null : type === 'Boolean' ? value === 1 : value;
    return { name, alias, type, timestamp, value: v as number, ...(v === null ? { isNull: true } : {}), ...(unit ? { properties: { engUnit: { type: 'String', value: unit } } } : {}) };
  }

  /** NDATA/DDATA by alias only once born; the first reading is announced by the births. */
  data(node: NativeMessage, devices: Map<string, NativeMessage>): WireMessage[] {
    this.last = { node, devices };
    const ts = Date.parse(node.ts);
    if (!this.born) return this.births(ts);
    const out: WireMessage[] = [];
    // Report by exception (§5.16 Data Publish): a value the model did not produce is not sent.
    const nodeMetrics = NODE_POINTS.flatMap((p) => {
      const v = node.metrics?.[p.from];
      return v === undefined ? [] : [{ alias: p.alias, type: p.type, timestamp: ts, value: (p.type === 'Boolean' ? v === 1 : v) as number }];
    });
    if (nodeMetrics.length > 0) out.push({ topic: this.topic('NDATA'), payload: encodeData({ timestamp: ts, seq: this.nextSeq(), metrics: nodeMetrics }) });
    for (const [i, device] of this.devices.entries()) {
      const values = devices.get(device)?.metrics ?? {};
      const metrics = DEVICE_POINTS.flatMap((p, j) => {
        const v = values[p.from];
        return v === undefined ? [] : [{ alias: 100 + i * 10 + j, type: p.type, timestamp: ts, value: (p.toWire ?? ((x) => x))(v) }];
      });
      if (metrics.length > 0) out.push({ topic: this.topic('DDATA', device), payload: encodeData({ timestamp: ts, seq: this.nextSeq(), metrics }) });
    }
    return out;
  }
}
