/**
 * The fleet as a deterministic stream of wire messages in delivery order: devices are stepped
 * at their reporting times of the model clock, encoded in their wire format, then faults decide
 * what is delivered when. Same devices, seed, environment and faults: same messages, byte for
 * byte (no wall clock, no shared random stream between devices).
 */
import type { Device } from '../../schemas/index.ts';
import { emptyEnvironment, type Environment } from './environment.ts';
import { hits, type Fault } from './faults.ts';
import { createModel, type DeviceModel, type NativeMessage } from './models/index.ts';
import { createRandom, deviceSeed } from './random.ts';
import { chirpstackUplink, ttnUplink, type WireMessage } from './wire/lorawan.ts';
import { ngsiEntities } from './wire/ngsi.ts';
import { senmlPack } from './wire/senml.ts';
import { SparkplugNodeEncoder } from './wire/sparkplug.ts';

export interface SimMessage {
  topic: string;
  payload: Buffer;
  /** Model time it is delivered at (ms). */
  at: number;
  device: string;
  /** Sparkplug edge node that owns the session this message goes out on. */
  node?: string;
}

export interface GeneratorOptions {
  seed: number;
  /** Model time of the first reading (ms). */
  start: number;
  env?: Environment;
  faults?: Fault[];
  /** Every device reports at this period instead of its own (seconds). */
  periodSeconds?: number;
}

interface Slot {
  device: Device;
  period: number;
  next: number;
  model: DeviceModel;
  count: number;
  faultRandom: () => number;
  children?: Array<{ id: string; name: string; model: DeviceModel }>;
  encoder?: SparkplugNodeEncoder;
}

/** The message a device sends, in its wire format (`format` tag). */
export function wireMessage(device: Device, m: NativeMessage, random: () => number, count: number, period: number): WireMessage {
  switch (device.tags.format) {
    case 'ttn-v3':
      return ttnUplink(device, m, random, count);
    case 'chirpstack-v4':
      return chirpstackUplink(device, m, random, count);
    case 'senml':
      return senmlPack(device, m);
    case 'ngsi':
      return ngsiEntities(device, m, period);
    default:
      return { topic: `vigie/${device.id}/telemetry`, payload: JSON.stringify(m) };
  }
}

/** Binary min-heap on (key, insertion order): stable, so equal times keep their order. */
class Heap<T> {
  private items: Array<{ k: number; n: number; v: T }> = [];
  private n = 0;
  get size() {
    return this.items.length;
  }
  peekKey(): number | undefined {
    return this.items[0]?.k;
  }
  push(k: number, v: T): void {
    const a = this.items;
    a.push({ k, n: this.n++, v });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[i]!, a[p]!)) [a[i], a[p]] = [a[p]!, a[i]!];
      else break;
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top?.v;
  }
  private less(a: { k: number; n: number }, b: { k: number; n: number }) {
    return a.k < b.k || (a.k === b.k && a.n < b.n);
  }
}

export interface DeclaredReset {
  device: string;
  metric: string;
  at: number;
}

export class FleetGenerator {
  private readonly due = new Heap<Slot>();
  private readonly out = new Heap<SimMessage>();
  private readonly env: Environment;
  private readonly faults: Fault[];
  private readonly stuck = new Map<string, number>();
  private readonly resetOffset = new Map<string, number>();
  private readonly rebooted = new Set<Fault>();
  readonly slots: Slot[] = [];
  /** Counter resets the faults caused (plausibility checks accept these and only these). */
  readonly resets: DeclaredReset[] = [];
  generated = 0;

  constructor(devices: Device[], private readonly o: GeneratorOptions) {
    this.env = o.env ?? emptyEnvironment();
    this.faults = o.faults ?? [];
    const byId = new Map(devices.map((d) => [d.id, d]));
    for (const device of devices) {
      if (device.tags.format === 'sparkplug-b-device') continue;
      const period = (o.periodSeconds ?? device.periodSeconds ?? 360) * 1000;
      const random = createRandom(deviceSeed(o.seed ^ 0x5eed, device.id));
      // Devices start at a random phase of their period, as a real fleet does.
      const first = o.start + Math.floor(random() * (period / 1000)) * 1000;
      const slot: Slot = { device, period, next: first, model: createModel(device, first, o.seed, this.env, period / 1000), count: 0, faultRandom: random };
      if (device.tags.format === 'sparkplug-b') {
        const [group, node] = device.id.split(':');
        const names = (device.tags.spDevices ?? '').split(',').filter(Boolean);
        slot.encoder = new SparkplugNodeEncoder(group ?? 'vigie', node ?? device.id, names);
        slot.children = names.map((name) => {
          const id = `${device.id}:${name}`;
          const child = byId.get(id) ?? { id, kind: 'building-sensor' as const, domain: 'buildings' as const, tags: {}, building: device.building };
          return { id, name, model: createModel(child, first, o.seed, this.env, period / 1000) };
        });
      }
      this.slots.push(slot);
      this.due.push(first, slot);
    }
  }

  /** Sparkplug nodes of the fleet: `{group}:{node}` id to encoder (the publisher opens their sessions). */
  nodes(): Map<string, SparkplugNodeEncoder> {
    return new Map(this.slots.filter((s) => s.encoder).map((s) => [s.device.id, s.encoder!]));
  }

  /** Messages delivered at model times up to `until` (inclusive), in delivery order. */
  advance(until: number): SimMessage[] {
    while ((this.due.peekKey() ?? Infinity) <= until) {
      const slot = this.due.pop()!;
      const t = slot.next;
      this.produce(slot, t);
      slot.next = t + slot.period;
      this.due.push(slot.next, slot);
    }
    const ready: SimMessage[] = [];
    while ((this.out.peekKey() ?? Infinity) <= until) ready.push(this.out.pop()!);
    return ready;
  }

  /** Model time of the next delivery (undefined: nothing scheduled). */
  nextAt(): number | undefined {
    return Math.min(this.due.peekKey() ?? Infinity, this.out.peekKey() ?? Infinity);
  }

  /** Everything still held (late deliveries) at the end of a run. */
  drain(): SimMessage[] {
    const rest: SimMessage[] = [];
    while (this.out.size) rest.push(this.out.pop()!);
    return rest;
  }

  /** Births of a node at `t`, when the platform asks for them (NCMD Node Control/Rebirth). */
  rebirth(nodeId: string, t: number): SimMessage[] {
    const enc = this.nodes().get(nodeId);
    return enc ? enc.births(t).map((w) => this.sim(w, t, nodeId, nodeId)) : [];
  }

  private sim(w: WireMessage, at: number, device: string, node?: string): SimMessage {
    return { topic: w.topic, payload: typeof w.payload === 'string' ? Buffer.from(w.payload) : w.payload, at, device, ...(node ? { node } : {}) };
  }

  private active(type: Fault['type'], device: string, t: number): Fault[] {
    return this.faults.filter((f) => f.type === type && hits(f, device, t));
  }

  /** Value faults on the native reading: stuck, sentinel, counter reset. */
  private alter(id: string, m: NativeMessage, t: number, random: () => number): NativeMessage {
    const faults = this.faults.filter((f) => (f.type === 'stuck' || f.type === 'sentinel' || f.type === 'counter-reset' || f.type === 'clock-skew') && (!f.devices || f.devices.includes(id)));
    if (faults.length === 0) return m;
    const metrics = m.metrics ? { ...m.metrics } : undefined;
    let ts = m.ts;
    for (const f of faults) {
      if (f.type === 'counter-reset' && metrics && t >= f.from) {
        const metric = f.metric ?? 'energy';
        const key = `${id}\u0000${metric}`;
        if (metrics[metric] === undefined) continue;
        if (!this.resetOffset.has(key)) {
          this.resetOffset.set(key, metrics[metric]!);
          this.resets.push({ device: id, metric, at: t });
        }
        metrics[metric] = Math.round((metrics[metric]! - this.resetOffset.get(key)!) * 1000) / 1000;
        continue;
      }
      if (!hits(f, id, t)) continue;
      if (f.type === 'clock-skew') ts = new Date(Date.parse(ts) + (f.offset ?? 0)).toISOString();
      else if (metrics && f.type === 'stuck') {
        for (const k of f.metric ? [f.metric] : Object.keys(metrics)) {
          const key = `${id}\u0000${k}\u0000${f.from}`;
          if (metrics[k] === undefined) continue;
          if (!this.stuck.has(key)) this.stuck.set(key, metrics[k]!);
          metrics[k] = this.stuck.get(key)!;
        }
      } else if (metrics && f.type === 'sentinel' && random() < (f.probability ?? 1)) {
        for (const k of f.metric ? [f.metric] : Object.keys(metrics)) if (metrics[k] !== undefined) metrics[k] = f.value ?? 1001;
      }
    }
    return { ...m, ts, ...(metrics ? { metrics } : {}) };
  }

  private produce(slot: Slot, t: number): void {
    const id = slot.device.id;
    const fr = slot.faultRandom;
    // A reboot of a Sparkplug edge node: death, new session, births (bdSeq + 1).
    for (const f of this.active('gateway-reboot', id, t)) {
      if (this.rebooted.has(f) || !slot.encoder) continue;
      this.rebooted.add(f);
      for (const w of slot.encoder.reboot(t - 1000)) this.emit(this.sim(w, t - 1000, id, id), slot, t);
    }
    const reading = this.alter(id, slot.model.step(t), t, fr);
    slot.count++;
    if (this.active('dropout', id, t).length > 0 || this.faults.some((f) => f.type === 'gateway-reboot' && !slot.encoder && hits(f, id, t) && t < f.from + 2 * slot.period)) return;
    let wires: WireMessage[];
    if (slot.encoder) {
      const children = new Map(slot.children!.map((c) => [c.name, this.alter(c.id, c.model.step(t), t, fr)]));
      wires = slot.encoder.data(reading, children);
    } else wires = [wireMessage(slot.device, reading, slot.model.random, slot.count, slot.period / 1000)];
    for (const w of wires) this.emit(this.sim(w, t, id, slot.encoder ? id : undefined), slot, t);
  }

  private emit(m: SimMessage, slot: Slot, t: number): void {
    const id = slot.device.id;
    const fr = slot.faultRandom;
    const chance = (f: Fault) => fr() < (f.probability ?? 1);
    this.generated++;
    if (this.active('malformed', id, t).some(chance)) {
      // Cut mid-payload, as a truncated frame or a gateway's buffer overrun does.
      m = { ...m, payload: Buffer.concat([m.payload.subarray(0, Math.max(1, Math.floor(m.payload.length / 2))), Buffer.from([0xff])]) };
    }
    const burst = this.active('burst', id, t)[0];
    if (burst && Number.isFinite(burst.to)) m = { ...m, at: burst.to };
    for (const f of this.active('late', id, t)) if (chance(f)) m = { ...m, at: m.at + (f.delay ?? 30 * 60_000) };
    // Out of order: this message arrives just after the device's next one.
    for (const f of this.active('out-of-order', id, t)) if (chance(f)) m = { ...m, at: m.at + slot.period + 1000 };
    this.out.push(m.at, m);
    for (const f of this.active('duplicate', id, t)) if (chance(f)) this.out.push(m.at, m);
  }
}
