/**
 * A Sparkplug B edge node (Eclipse Sparkplug 3.0.0) of a school's building-management system:
 * its own MQTT session with an NDEATH will carrying bdSeq, NBIRTH/DBIRTH with aliases and
 * datatypes, NDATA/DDATA by alias only and without datatype (§6.4.6 Metric,
 * tck-id-payloads-alias-data-cmd-requirement and tck-id-payloads-metric-datatype-not-req), a
 * timestamp on every metric (tck-id-payloads-name-birth-data-requirement), seq 0-255 wrapping,
 * and an answer to `Node Control/Rebirth` NCMD requests. Payloads are encoded with the Eclipse
 * Tahu library.
 */
import mqtt, { type MqttClient } from 'mqtt';
import sparkplug from 'sparkplug-payload';
import protoModule from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import type { NativeMessage } from '../models.ts';

const spb = sparkplug.get('spBv1.0')!;
const Proto = protoModule.org.eclipse.tahu.protobuf.Payload;

/** A DATA payload as a 3.0 edge node sends it: Tahu's encoder always writes the datatype, so it is removed. */
function encodeData(payload: Payload): Buffer {
  const msg = Proto.decode(spb.encodePayload(payload));
  for (const m of msg.metrics) delete (m as { datatype?: number }).datatype;
  return Buffer.from(Proto.encode(msg).finish());
}
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
  { name: 'Sensors/Temperature', type: 'Double', from: 'air_temperature', unit: 'degF', toWire: (c) => Math.round((c * 9) / 5 * 10 + 320) / 10 },
  { name: 'Sensors/Humidity', type: 'Float', from: 'relative_humidity' },
  { name: 'Sensors/CO2', type: 'UInt32', from: 'co2' },
];

export class SparkplugEdgeNode {
  private client: MqttClient | null = null;
  private seq = 0;
  private bdSeq = 0;
  private last: { node?: NativeMessage; devices: Map<string, NativeMessage> } = { devices: new Map() };
  published = 0;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    readonly group: string,
    readonly node: string,
    readonly devices: string[],
    /** The edge node's broker account. */
    private readonly login?: { username: string; password: string },
  ) {}

  private topic(type: string, device?: string): string {
    return `${this.prefix}spBv1.0/${this.group}/${type}/${this.node}${device ? `/${device}` : ''}`;
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  async start(): Promise<void> {
    const death = spb.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: this.bdSeq, timestamp: Date.now() }] });
    this.client = await mqtt.connectAsync(this.url, {
      clientId: `sim-spb-${this.node}-${process.pid}`.slice(0, 23),
      clean: true,
      ...(this.login ?? {}),
      will: { topic: this.topic('NDEATH'), payload: Buffer.from(death), qos: 1, retain: false },
    });
    this.client.on('message', (_t, payload) => {
      try {
        const cmd = spb.decodePayload(payload);
        if (cmd.metrics?.some((m) => m.name === 'Node Control/Rebirth' && m.value === true)) void this.births();
      } catch {
        // Not a Sparkplug payload: a real node ignores it too.
      }
    });
    await this.client.subscribeAsync(this.topic('NCMD'), { qos: 0 });
  }

  /** NBIRTH then one DBIRTH per device, with the last known values (a rebirth restarts seq at 0). */
  async births(): Promise<void> {
    if (!this.client) return;
    this.seq = 0;
    const now = Date.now();
    const nodeValues = this.last.node?.metrics ?? {};
    await this.client.publishAsync(
      this.topic('NBIRTH'),
      Buffer.from(
        spb.encodePayload({
          timestamp: now,
          seq: this.nextSeq(),
          metrics: [
            { name: 'bdSeq', type: 'UInt64', value: this.bdSeq, timestamp: now },
            { name: 'Node Control/Rebirth', type: 'Boolean', value: false, timestamp: now },
            { name: 'Properties/Hardware Make', type: 'String', value: 'Vigie simulated GTB edge', timestamp: now },
            ...NODE_POINTS.map((p) => this.metric(p.name, p.alias, p.type, nodeValues[p.from], now, p.unit)),
          ],
        }),
      ),
      { qos: 0 },
    );
    for (const [i, device] of this.devices.entries()) {
      const values = this.last.devices.get(device)?.metrics ?? {};
      await this.client.publishAsync(
        this.topic('DBIRTH', device),
        Buffer.from(
          spb.encodePayload({
            timestamp: now,
            seq: this.nextSeq(),
            metrics: DEVICE_POINTS.map((p, j) => this.metric(p.name, 100 + i * 10 + j, p.type, values[p.from] === undefined ? undefined : (p.toWire ?? ((x) => x))(values[p.from]!), now, p.unit)),
          }),
        ),
        { qos: 0 },
      );
    }
    this.published += 1 + this.devices.length;
  }

  private metric(name: string, alias: number, type: Metric['type'], value: number | undefined, timestamp: number, unit?: string): Metric {
    const v = value === undefined ? null : type === 'Boolean' ? value === 1 : value;
    return { name, alias, type, timestamp, value: v as number, ...(v === null ? { isNull: true } : {}), ...(unit ? { properties: { engUnit: { type: 'String', value: unit } } } : {}) };
  }

  /** NDATA/DDATA by alias only, as Sparkplug nodes do once born. */
  async publish(node: NativeMessage, devices: Map<string, NativeMessage>): Promise<void> {
    if (!this.client) return;
    const first = this.last.node === undefined;
    this.last = { node, devices };
    if (first) return this.births();
    const ts = Date.parse(node.ts);
    // Report by exception (§5.16 Data Publish): a value the model did not produce is not sent.
    const nodeMetrics = NODE_POINTS.flatMap((p) => {
      const v = node.metrics?.[p.from];
      return v === undefined ? [] : [{ alias: p.alias, type: p.type, timestamp: ts, value: (p.type === 'Boolean' ? v === 1 : v) as number }];
    });
    if (nodeMetrics.length > 0) {
      await this.client.publishAsync(this.topic('NDATA'), encodeData({ timestamp: ts, seq: this.nextSeq(), metrics: nodeMetrics }), { qos: 0 });
      this.published += 1;
    }
    for (const [i, device] of this.devices.entries()) {
      const values = devices.get(device)?.metrics ?? {};
      const metrics = DEVICE_POINTS.flatMap((p, j) => {
        const v = values[p.from];
        return v === undefined ? [] : [{ alias: 100 + i * 10 + j, type: p.type, timestamp: ts, value: (p.toWire ?? ((x) => x))(v) }];
      });
      if (metrics.length > 0) {
        await this.client.publishAsync(this.topic('DDATA', device), encodeData({ timestamp: ts, seq: this.nextSeq(), metrics }), { qos: 0 });
        this.published += 1;
      }
    }
  }

  /** A clean disconnect publishes the death itself (the will only fires on a lost connection). */
  async stop(): Promise<void> {
    if (!this.client) return;
    await this.client.publishAsync(this.topic('NDEATH'), Buffer.from(spb.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: this.bdSeq }] })), { qos: 1 });
    await this.client.endAsync();
    this.client = null;
  }
}
