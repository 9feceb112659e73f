/**
 * A Sparkplug B edge node (Eclipse Sparkplug 3.0) of a school's building-management system, as
 * an encoder: NBIRTH/DBIRTH with aliases and the bdSeq of the session, NDATA/DDATA by alias
 * only, seq 0-255 wrapping, NDEATH carrying the bdSeq (also the session's will, set by the
 * publisher), and a rebirth (new session, bdSeq + 1) after a reboot. Payloads are encoded with
 * the Eclipse Tahu library; timestamps are the simulated clock's.
 */
import sparkplug from 'sparkplug-payload';
import type { NativeMessage } from '../models/index.ts';
import type { WireMessage } from './lorawan.ts';

const spb = sparkplug.get('spBv1.0')!;
type Payload = Parameters<typeof spb.encodePayload>[0];
type Metric = NonNullable<Payload['metrics']>[number];

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
    return { topic: this.topic('NDEATH'), payload: Buffer.from(spb.encodePayload({ timestamp: t, metrics: [{ name: 'bdSeq', type: 'UInt64', value: this.bdSeq }] })) };
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
              { name: 'bdSeq', type: 'UInt64', value: this.bdSeq },
              { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
              { name: 'Properties/Hardware Make', type: 'String', value: 'Vigie simulated GTB edge' },
              ...NODE_POINTS.map((p) => this.metric(p.name, p.alias, p.type, nodeValues[p.from], p.unit)),
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
            metrics: DEVICE_POINTS.map((p, j) => this.metric(p.name, 100 + i * 10 + j, p.type, values[p.from] === undefined ? undefined : (p.toWire ?? ((x) => x))(values[p.from]!), p.unit)),
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

  private metric(name: string, alias: number, type: Metric['type'], value: number | undefined, unit?: string): Metric {
    const v = value === undefined ? null : type === 'Boolean' ? value === 1 : value;
    return { name, alias, type, value: v as number, ...(v === null ? { isNull: true } : {}), ...(unit ? { properties: { engUnit: { type: 'String', value: unit } } } : {}) };
  }

  /** NDATA/DDATA by alias only once born; the first reading is announced by the births. */
  data(node: NativeMessage, devices: Map<string, NativeMessage>): WireMessage[] {
    this.last = { node, devices };
    const ts = Date.parse(node.ts);
    if (!this.born) return this.births(ts);
    const out: WireMessage[] = [
      { topic: this.topic('NDATA'), payload: Buffer.from(spb.encodePayload({ timestamp: ts, seq: this.nextSeq(), metrics: NODE_POINTS.map((p) => ({ alias: p.alias, type: p.type, value: (p.type === 'Boolean' ? node.metrics?.[p.from] === 1 : node.metrics?.[p.from]) as number })) })) },
    ];
    for (const [i, device] of this.devices.entries()) {
      const v = devices.get(device)?.metrics ?? {};
      out.push({ topic: this.topic('DDATA', device), payload: Buffer.from(spb.encodePayload({ timestamp: ts, seq: this.nextSeq(), metrics: DEVICE_POINTS.map((p, j) => ({ alias: 100 + i * 10 + j, type: p.type, value: (p.toWire ?? ((x) => x))(v[p.from] ?? 0) })) })) });
    }
    return out;
  }
}
