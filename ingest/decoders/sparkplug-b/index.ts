/**
 * Sparkplug B (Eclipse Sparkplug 3.0) on `spBv1.0/{group}/{type}/{node}[/{device}]`, protobuf
 * payloads decoded with the Eclipse Tahu `sparkplug-payload` library. See README.md here.
 */
import sparkplug from 'sparkplug-payload';
import { z } from 'zod';
import type { Reject } from '../../../schemas/index.ts';
import type { DecodeContext, Decoder, DecodeResult, DeviceStatusChange, InboundMessage, OutboundCommand, Reading } from '../../decoder.ts';
import { mapKeys, profilesFor, resolveKey, type KeyedValue, type ProfileChoice } from '../../profiles/map-keys.ts';
import { newNodeState, type NodeState } from './state.ts';

export const sparkplugOptionsSchema = z
  .object({
    /** Shortest time between two rebirth requests to one node (a flood of DATA must not become a flood of NCMD). */
    rebirthMinIntervalMs: z.number().int().min(0).default(10_000),
  })
  .strict();
export type SparkplugOptions = z.input<typeof sparkplugOptionsSchema>;

/** Only the message types an edge node publishes; NCMD/DCMD/STATE are not subscribed (Vigie publishes NCMD itself). */
export const SPARKPLUG_TOPICS = ['spBv1.0/+/NBIRTH/+', 'spBv1.0/+/NDATA/+', 'spBv1.0/+/NDEATH/+', 'spBv1.0/+/DBIRTH/+/+', 'spBv1.0/+/DDATA/+/+', 'spBv1.0/+/DDEATH/+/+'];
const TYPES = new Set(['NBIRTH', 'NDATA', 'NDEATH', 'DBIRTH', 'DDATA', 'DDEATH']);
/** Sparkplug B metric datatypes that carry a number or a boolean; the others are metadata. */
const NUMERIC_TYPES = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double', 'Boolean']);
const REBIRTH_METRIC = 'Node Control/Rebirth';

const spb = sparkplug.get('spBv1.0')!;
type Payload = ReturnType<typeof spb.decodePayload>;
type Metric = NonNullable<Payload['metrics']>[number];

export function createSparkplugDecoder(options: SparkplugOptions = {}): Decoder {
  const o = sparkplugOptionsSchema.parse(options);
  return { name: 'sparkplug-b', decode: (message, context) => decode(message, context, o.rebirthMinIntervalMs) };
}

/** Sparkplug ids may hold characters Vigie ids do not (spaces...): those become `_`. */
export function sparkplugDeviceId(group: string, node: string, device?: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.\-]/g, '_');
  return [group, node, ...(device === undefined ? [] : [device])].map(clean).join(':');
}

/** Long (int64/uint64 and timestamps) to a JS number. */
function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return undefined;
}

function value(m: Metric): unknown {
  const v = m.value;
  // A Float metric is IEEE 754 single precision (Sparkplug B datatypes): 33.6 arrives as
  // 33.59999847; 7 significant digits is all it ever held.
  if (typeof v === 'number' && m.type === 'Float') return Number(v.toPrecision(7));
  if (typeof v === 'boolean' || typeof v === 'number') return v;
  return num(v) ?? v;
}

export function rebirthRequest(group: string, node: string, now: Date, reason: string): OutboundCommand {
  const payload = spb.encodePayload({ timestamp: now.getTime(), metrics: [{ name: REBIRTH_METRIC, type: 'Boolean', value: true }] });
  return { topic: `spBv1.0/${group}/NCMD/${node}`, payload: Buffer.from(payload), qos: 0, reason };
}

function decode(message: InboundMessage, context: DecodeContext, rebirthMinIntervalMs: number): DecodeResult {
  const parts = message.topic.split('/');
  const [ns, group, type, node, device] = parts;
  if (ns !== 'spBv1.0' || !group || !type || !node || !TYPES.has(type) || parts.length !== (type.startsWith('D') ? 5 : 4) || (type.startsWith('D') && !device)) {
    return { readings: [], rejects: [{ code: 'invalid_topic', reason: `expected topic spBv1.0/{group}/{NBIRTH|NDATA|NDEATH}/{node} or spBv1.0/{group}/{DBIRTH|DDATA|DDEATH}/{node}/{device}, got ${message.topic}` }] };
  }
  const nodeId = sparkplugDeviceId(group, node);
  const deviceId = device ? sparkplugDeviceId(group, node, device) : nodeId;
  let payload: Payload;
  try {
    payload = spb.decodePayload(message.payload);
  } catch (err) {
    return { deviceId, readings: [], rejects: [{ code: 'invalid_envelope', deviceId, reason: `payload is not a Sparkplug B protobuf Payload: ${(err as Error).message}` }] };
  }
  const states = context.state('sparkplug-b');
  const key = `${group}/${node}`;
  let state = states.get(key) as NodeState | undefined;
  const now = context.now;
  const rejects: Reject[] = [];
  const commands: OutboundCommand[] = [];
  const deviceStatus: DeviceStatusChange[] = [];
  const metrics = payload.metrics ?? [];
  const seq = num(payload.seq);
  const payloadTime = num(payload.timestamp);

  const requestRebirth = (why: string) => {
    const s = state ?? newNodeState();
    if (s.lastRebirthAt !== undefined && now.getTime() - s.lastRebirthAt < rebirthMinIntervalMs) return;
    s.lastRebirthAt = now.getTime();
    states.set(key, s);
    state = s;
    commands.push(rebirthRequest(group, node, now, why));
  };

  if (type === 'NDEATH') {
    // Sparkplug 3.0 session management: the NDEATH (the node's MQTT will) carries the bdSeq
    // of the session it ends; a will from an older session arriving late must not kill the
    // current one.
    const bd = num(metrics.find((m) => m.name === 'bdSeq')?.value);
    if (state?.bdSeq !== undefined && bd !== undefined && bd !== state.bdSeq) {
      return { deviceId, readings: [], rejects: [{ code: 'sequence_error', field: 'bdSeq', deviceId, reason: `bdSeq: NDEATH for session ${bd}, but the current session is ${state.bdSeq}; a stale will, ignored (Sparkplug 3.0, Edge Node session: bdSeq)` }] };
    }
    const at = payloadTime !== undefined ? new Date(payloadTime) : now;
    deviceStatus.push({ deviceId: nodeId, online: false, at, reason: 'NDEATH' });
    for (const d of state?.devices ?? []) deviceStatus.push({ deviceId: sparkplugDeviceId(group, node, d), online: false, at, reason: 'NDEATH of its edge node' });
    if (state) {
      state.born = false;
      state.devices.clear();
    }
    return { deviceId, readings: [], rejects, deviceStatus };
  }

  if (seq === undefined || seq < 0 || seq > 255) {
    rejects.push({ code: 'sequence_error', field: 'seq', deviceId, reason: `seq: expected 0-255, got ${String(seq)}; rebirth requested` });
    requestRebirth('missing seq');
  } else if (type === 'NBIRTH') {
    state = newNodeState();
    state.lastRebirthAt = (states.get(key) as NodeState | undefined)?.lastRebirthAt;
    state.born = true;
    state.seq = seq;
    state.bdSeq = num(metrics.find((m) => m.name === 'bdSeq')?.value);
    states.set(key, state);
  } else if (!state || !state.born) {
    rejects.push({ code: 'sequence_error', field: 'seq', deviceId, reason: `${type} before any NBIRTH from node ${group}/${node}: state unknown, rebirth requested (Sparkplug 3.0, seq and Node Control/Rebirth)` });
    requestRebirth(`${type} before NBIRTH`);
  } else {
    const expected = (state.seq + 1) % 256;
    if (seq !== expected) {
      rejects.push({ code: 'sequence_error', field: 'seq', deviceId, reason: `seq: expected ${expected}, got ${seq}: messages from node ${group}/${node} were lost, rebirth requested` });
      requestRebirth(`seq gap ${expected} -> ${seq}`);
    }
    state.seq = seq;
  }

  const birth = type === 'NBIRTH' || type === 'DBIRTH';
  if (birth && state?.born) {
    for (const m of metrics) {
      const alias = num(m.alias);
      if (alias !== undefined && m.name) state.aliases.set(alias, m.name);
      const unit = m.properties?.engUnit?.value ?? m.properties?.EngUnit?.value;
      if (m.name && typeof unit === 'string') state.units.set(m.name, unit);
    }
    if (type === 'DBIRTH' && device) state.devices.add(device);
  }
  if (type === 'NBIRTH' || type === 'DBIRTH') deviceStatus.push({ deviceId, online: true, at: payloadTime !== undefined ? new Date(payloadTime) : now, reason: type });
  if (type === 'DDEATH') {
    state?.devices.delete(device!);
    deviceStatus.push({ deviceId, online: false, at: payloadTime !== undefined ? new Date(payloadTime) : now, reason: 'DDEATH' });
    return { deviceId, readings: [], rejects, commands, deviceStatus };
  }

  const choice = profilesFor(context, deviceId);
  const entries: KeyedValue[] = [];
  const unknownAliases: number[] = [];
  metrics.forEach((m, i) => {
    const alias = num(m.alias);
    const name = m.name || (alias !== undefined ? state?.aliases.get(alias) : undefined);
    if (!name) {
      if (alias !== undefined) unknownAliases.push(alias);
      else rejects.push({ code: 'invalid_envelope', field: `metrics[${i}]`, deviceId, reason: `metrics[${i}]: a metric needs a name or an alias (Sparkplug 3.0 Payload: Metric)` });
      return;
    }
    // Control and property metrics describe the node, they are not telemetry (Sparkplug 3.0: Node Control and Properties metrics).
    if (name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/') || name.startsWith('Properties/')) return;
    if (m.isNull || m.value === null || m.value === undefined) return;
    if (m.type && !NUMERIC_TYPES.has(m.type)) return;
    const t = num(m.timestamp) ?? payloadTime;
    entries.push({ key: profileKey(choice, name), value: value(m), unit: state?.units.get(name), time: t !== undefined ? new Date(t) : undefined, field: `metrics[${i}](${name.slice(0, 64)})` });
  });
  if (unknownAliases.length > 0) {
    rejects.push({ code: 'unknown_alias', field: 'metrics', deviceId, reason: `metrics: alias ${unknownAliases.slice(0, 10).join(', ')} not defined by any BIRTH of node ${group}/${node}; rebirth requested` });
    requestRebirth('unknown alias');
  }
  const mapped = mapKeys(deviceId, entries, choice);
  const readings: Reading[] = mapped.readings;
  return { deviceId, readings, rejects: [...rejects, ...mapped.rejects], commands, deviceStatus };
}

/** Sparkplug names are paths (`Sensors/Ambient/Temperature`): the full path first, then its last segment. */
function profileKey(choice: ProfileChoice, name: string): string {
  if (resolveKey(choice, name) !== undefined) return name;
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last && resolveKey(choice, last) !== undefined ? last : name;
}
