/**
 * Sparkplug B (Eclipse Sparkplug 3.0.0) on `spBv1.0/{group}/{type}/{node}[/{device}]`. Payloads
 * are decoded with the protobuf schema shipped by Eclipse Tahu (`sparkplug-payload`); values are
 * read by the datatype their BIRTH declared (values.ts). See README.md here.
 */
import { z } from 'zod';
import type { Reject } from '../../../schemas/index.ts';
import type { DecodeContext, Decoder, DecodeResult, DeviceStatusChange, InboundMessage, OutboundCommand, Reading } from '../../decoder.ts';
import { mapKeys, profilesFor, resolveKey, type KeyedValue, type ProfileChoice } from '../../profiles/map-keys.ts';
import { count, newNodeState, newTable, type MetricDef, type MetricTable, type NodeState } from './state.ts';
import { datatypeName, decodeRaw, decodeValue, has, isStoredDatatype, RawPayload, stringProperty, u64, valueField, type RawMetric, type RawPayloadMessage } from './values.ts';

export const sparkplugOptionsSchema = z
  .object({
    /** Shortest time between two rebirth requests to one node (a flood of DATA must not become a flood of NCMD). */
    rebirthMinIntervalMs: z.number().int().min(0).default(10_000),
    /**
     * The host application's 'Reorder Timeout' (Sparkplug 3.0.0 §5.9 "Sparkplug Host Application
     * Message Ordering", tck-id-operational-behavior-host-reordering-param): how long a seq gap
     * waits for its missing messages before a rebirth is requested. 0: at once.
     */
    reorderTimeoutMs: z.number().int().min(0).default(2_000),
  })
  .strict();
export type SparkplugOptions = z.input<typeof sparkplugOptionsSchema>;
type Options = z.output<typeof sparkplugOptionsSchema>;

/** Only the message types an edge node publishes; NCMD/DCMD/STATE are not subscribed (Vigie publishes NCMD itself). */
export const SPARKPLUG_TOPICS = ['spBv1.0/+/NBIRTH/+', 'spBv1.0/+/NDATA/+', 'spBv1.0/+/NDEATH/+', 'spBv1.0/+/DBIRTH/+/+', 'spBv1.0/+/DDATA/+/+', 'spBv1.0/+/DDEATH/+/+'];
const TYPES = new Set(['NBIRTH', 'NDATA', 'NDEATH', 'DBIRTH', 'DDATA', 'DDEATH']);
const REBIRTH_METRIC = 'Node Control/Rebirth';
const SPEC = 'Sparkplug 3.0.0';
export { counts } from './state.ts';

export function createSparkplugDecoder(options: SparkplugOptions = {}): Decoder {
  const o = sparkplugOptionsSchema.parse(options);
  return { name: 'sparkplug-b', decode: (message, context) => decode(message, context, o) };
}

/** Sparkplug ids may hold characters Vigie ids do not (spaces...): those become `_`. */
export function sparkplugDeviceId(group: string, node: string, device?: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.\-]/g, '_');
  return [group, node, ...(device === undefined ? [] : [device])].map(clean).join(':');
}

/**
 * The Rebirth Request of §5.17 "Commands" and §6.4.23 "NCMD": verb NCMD, metric 'Node Control/Rebirth',
 * Boolean true, a payload timestamp and no seq (tck-id-payloads-ncmd-seq), QoS 0, not retained.
 */
export function rebirthRequest(group: string, node: string, now: Date, reason: string): OutboundCommand {
  const t = now.getTime();
  const payload = RawPayload.encode(RawPayload.create({ timestamp: t, metrics: [{ name: REBIRTH_METRIC, timestamp: t, datatype: 11, booleanValue: true }] })).finish();
  return { topic: `spBv1.0/${group}/NCMD/${node}`, payload: Buffer.from(payload), qos: 0, reason };
}

/** Metrics that describe or control the node rather than measure (§4 Topics: "Node Control/*", "Device Control/*", "Properties/*" metrics; §6.4.19 NBIRTH: bdSeq). */
function isControl(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/') || name.startsWith('Properties/');
}

/** A metric of a BIRTH, as a definition for the DATA that follow. */
function defOf(m: RawMetric): MetricDef {
  return { name: m.name ?? '', ...(m.datatype ? { datatype: m.datatype } : {}), unit: stringProperty(m, 'engUnit'), transient: m.isTransient === true };
}

function fillTable(table: MetricTable, metrics: RawMetric[], rejects: Reject[], deviceId: string): void {
  metrics.forEach((m, i) => {
    if (!has(m, 'name') || !m.name) {
      rejects.push({ code: 'invalid_envelope', field: `metrics[${i}]`, deviceId, reason: `metrics[${i}]: a BIRTH metric needs a name (${SPEC} §6.4.6 Metric, tck-id-payloads-alias-birth-requirement)` });
      return;
    }
    const def = defOf(m);
    table.byName.set(def.name, def);
    if (has(m, 'alias')) table.byAlias.set(u64(m.alias)!, def);
  });
}

interface Ctx {
  group: string;
  node: string;
  key: string;
  now: Date;
  states: Map<string, unknown>;
  o: Options;
  rejects: Reject[];
  commands: OutboundCommand[];
}

function requestRebirth(c: Ctx, state: NodeState | undefined, why: string): NodeState {
  const s = state ?? newNodeState();
  c.states.set(c.key, s);
  if (c.commands.length > 0) return s; // one request per message is enough
  if (s.lastRebirthAt !== undefined && c.now.getTime() - s.lastRebirthAt < c.o.rebirthMinIntervalMs) return s;
  s.lastRebirthAt = c.now.getTime();
  c.commands.push(rebirthRequest(c.group, c.node, c.now, why));
  return s;
}

/** Seq numbers of positions, for reasons. */
function seqList(positions: Iterable<number>): string {
  const all = [...positions].sort((a, b) => a - b).map((p) => ((p % 256) + 256) % 256);
  return all.length > 10 ? `${all.slice(0, 10).join(', ')}… (${all.length})` : all.join(', ');
}

/**
 * Closes a reorder window whose deadline has passed: the messages still missing are lost, so a
 * rebirth is requested (tck-id-operational-behavior-host-reordering-rebirth). Returns the dead
 * letter's reject, or undefined when no window expired.
 */
function expire(c: Ctx, state: NodeState): Reject | undefined {
  const w = state.reorder;
  if (!w || c.now.getTime() < w.deadline) return undefined;
  state.reorder = undefined;
  count(c.states, 'reorder:expired');
  requestRebirth(c, state, `seq gap not filled within ${c.o.reorderTimeoutMs} ms`);
  return {
    code: 'sequence_error',
    field: 'seq',
    deviceId: w.opener.deviceId,
    reason: `seq: expected ${w.opener.expected}, got ${w.opener.got}; seq ${seqList(w.missing)} did not arrive within the reorder timeout (${c.o.reorderTimeoutMs} ms, VIGIE_SPARKPLUG_REORDER_TIMEOUT_MS): messages from node ${c.group}/${c.node} were lost, rebirth requested (${SPEC} §5.9 Host Application Message Ordering)`,
  };
}

/** A new session (NBIRTH) or its end (NDEATH) closes an open window without a rebirth request: the gap's messages are lost all the same. */
function closeWindow(c: Ctx, state: NodeState, type: string): Reject | undefined {
  const w = state.reorder;
  if (!w) return undefined;
  state.reorder = undefined;
  count(c.states, 'reorder:expired');
  return {
    code: 'sequence_error',
    field: 'seq',
    deviceId: w.opener.deviceId,
    reason: `seq: expected ${w.opener.expected}, got ${w.opener.got}; seq ${seqList(w.missing)} never arrived before the ${type} of node ${c.group}/${c.node}: those messages were lost (${SPEC} §5.9 Host Application Message Ordering)`,
  };
}

/** What the timer of the ingest runtime records when a reorder window expires with no message to carry it. */
export interface ExpiredWindow {
  topic: string;
  payload: Buffer;
  receivedAt: Date;
  deviceId: string;
  reject: Reject;
  commands: OutboundCommand[];
}

/**
 * Expires the reorder windows whose deadline has passed (called by a timer, so a node that falls
 * silent after a gap still gets its rebirth request). The dead letter goes with the message that
 * revealed the gap.
 */
export function expireSparkplugReorder(states: Map<string, unknown>, now: Date, options: SparkplugOptions = {}): ExpiredWindow[] {
  const o = sparkplugOptionsSchema.parse(options);
  const out: ExpiredWindow[] = [];
  for (const [key, value] of [...states.entries()]) {
    if (key.startsWith('#')) continue;
    const state = value as NodeState;
    if (!state.reorder || now.getTime() < state.reorder.deadline) continue;
    const [group = '', ...rest] = key.split('/');
    const c: Ctx = { group, node: rest.join('/'), key, now, states, o, rejects: [], commands: [] };
    const opener = state.reorder.opener;
    const reject = expire(c, state);
    if (reject) out.push({ topic: opener.topic, payload: opener.payload, receivedAt: opener.receivedAt, deviceId: opener.deviceId, reject, commands: c.commands });
  }
  return out;
}

function decode(message: InboundMessage, context: DecodeContext, o: Options): DecodeResult {
  const parts = message.topic.split('/');
  const [ns, group, type, node, device] = parts;
  if (ns !== 'spBv1.0' || !group || !type || !node || !TYPES.has(type) || parts.length !== (type.startsWith('D') ? 5 : 4) || (type.startsWith('D') && !device)) {
    return { readings: [], rejects: [{ code: 'invalid_topic', reason: `expected topic spBv1.0/{group}/{NBIRTH|NDATA|NDEATH}/{node} or spBv1.0/{group}/{DBIRTH|DDATA|DDEATH}/{node}/{device}, got ${message.topic}` }] };
  }
  const nodeId = sparkplugDeviceId(group, node);
  const deviceId = device ? sparkplugDeviceId(group, node, device) : nodeId;
  let payload: RawPayloadMessage;
  try {
    payload = decodeRaw(message.payload);
  } catch (err) {
    return { deviceId, readings: [], rejects: [{ code: 'invalid_envelope', deviceId, reason: `payload is not a Sparkplug B protobuf Payload: ${(err as Error).message}` }] };
  }
  const c: Ctx = { group, node, key: `${group}/${node}`, now: context.now, states: context.state('sparkplug-b'), o, rejects: [], commands: [] };
  const { rejects, commands } = c;
  const deviceStatus: DeviceStatusChange[] = [];
  let state = c.states.get(c.key) as NodeState | undefined;
  const metrics = payload.metrics ?? [];
  const payloadTime = has(payload, 'timestamp') ? u64(payload.timestamp) : undefined;
  const seq = has(payload, 'seq') ? u64(payload.seq) : undefined;
  const result = (readings: Reading[] = []): DecodeResult => ({ deviceId, readings, rejects, commands, deviceStatus });

  // A window whose deadline passed is closed before this message counts (a missing message that
  // arrives after the Reorder Timeout is late: the rebirth is already due).
  if (state && type !== 'NDEATH') {
    const closed = type === 'NBIRTH' ? closeWindow(c, state, type) : expire(c, state);
    if (closed) rejects.push(closed);
  }

  if (type === 'NDEATH') {
    // §6.4.25 NDEATH: the bdSeq ties the death to the NBIRTH of the same MQTT session; a will of an
    // older session delivered after a newer NBIRTH (tck-id-payloads-ndeath-bdseq) changes nothing.
    const bdMetric = metrics.find((m) => m.name === 'bdSeq');
    const bd = bdMetric ? u64(valueField(bdMetric) === 'intValue' ? bdMetric.intValue : bdMetric.longValue) : undefined;
    if (state?.bdSeq !== undefined && bd !== undefined && bd !== state.bdSeq) {
      rejects.push({ code: 'sequence_error', field: 'bdSeq', deviceId, reason: `bdSeq: NDEATH of session ${bd}, but the current session (last NBIRTH) is ${state.bdSeq}: a stale death certificate, ignored (${SPEC} §6.4.25 NDEATH)` });
      return result();
    }
    if (state && !state.born && state.bdSeq !== undefined && bd === state.bdSeq) {
      // §5.5: the MQTT will delivered after the node's own NDEATH carries the same bdSeq and
      // "MUST be ignored".
      rejects.push({ code: 'sequence_error', field: 'bdSeq', deviceId, reason: `bdSeq: a second NDEATH of session ${bd} (the MQTT will after the node's own NDEATH): ignored (${SPEC} §5.5 Edge Node Session Termination)` });
      return result();
    }
    const closed = state ? closeWindow(c, state, type) : undefined;
    if (closed) rejects.push(closed);
    if (bd === undefined) rejects.push({ code: 'invalid_envelope', field: 'bdSeq', deviceId, reason: `bdSeq: an NDEATH must carry the bdSeq metric (${SPEC} tck-id-payloads-ndeath-bdseq); taken as the death of the current session` });
    // The NDEATH payload timestamp is not when the node went offline (the MQTT server may
    // deliver it as the will): the host's receive time is (§5.5,
    // tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline).
    const at = c.now;
    deviceStatus.push({ deviceId: nodeId, online: false, at, reason: 'NDEATH' });
    for (const [d, ds] of state?.devices ?? []) if (ds.online) deviceStatus.push({ deviceId: sparkplugDeviceId(group, node, d), online: false, at, reason: 'NDEATH of its edge node' });
    if (state) {
      state.born = false;
      state.endedAt = c.now.getTime();
      state.devices.clear();
    }
    return result();
  }

  const at = new Date(payloadTime ?? c.now.getTime());
  /** Position of this message in the node's stream; undefined when its seq is unusable. */
  let pos: number | undefined;
  const seqOk = seq !== undefined && seq >= 0 && seq <= 255;
  if (!seqOk && (type === 'NBIRTH' || state?.born)) {
    rejects.push({ code: 'sequence_error', field: 'seq', deviceId, reason: `seq: expected 0-255, got ${String(seq)} (${SPEC} tck-id-payloads-sequence-num-always-included); rebirth requested` });
    state = requestRebirth(c, state, 'missing seq');
    if (type === 'NBIRTH') return result();
  } else if (type === 'NBIRTH') {
    // tck-id-payloads-nbirth-seq: any seq 0-255 starts the session.
    const previous = state;
    state = newNodeState();
    state.lastRebirthAt = previous?.lastRebirthAt;
    state.born = true;
    state.pos = seq!;
    state.bornAt = payloadTime;
    const bdMetric = metrics.find((m) => m.name === 'bdSeq');
    state.bdSeq = bdMetric ? u64(valueField(bdMetric) === 'intValue' ? bdMetric.intValue : bdMetric.longValue) : undefined;
    if (state.bdSeq === undefined) rejects.push({ code: 'invalid_envelope', field: 'bdSeq', deviceId, reason: `bdSeq: every NBIRTH must carry the bdSeq metric (${SPEC} tck-id-payloads-nbirth-bdseq); a stale NDEATH cannot be told from a current one` });
    c.states.set(c.key, state);
    pos = seq!;
  } else if (!state || !state.born) {
    // §5.15 "Sparkplug Host Application Receive Data": DBIRTH, NDATA, DDATA or DDEATH before an
    // NBIRTH call for a rebirth; without the BIRTH the metrics cannot be decoded.
    const when = state?.endedAt !== undefined ? 'after the NDEATH of' : 'before any NBIRTH from';
    rejects.push({ code: 'sequence_error', field: 'seq', deviceId, reason: `${type} ${when} node ${group}/${node}: its metrics cannot be decoded without the BIRTH; rebirth requested (${SPEC} §5.15 Host Application Receive Data)` });
    state = requestRebirth(c, state, `${type} before NBIRTH`);
    if (type === 'DDEATH') deviceStatus.push({ deviceId, online: false, at, reason: 'DDEATH' });
    return result();
  } else {
    pos = place(c, state, seq!, message, deviceId);
  }
  if (!state) return result();
  const st = state;

  const choice = profilesFor(context, deviceId);
  const entries: KeyedValue[] = [];
  const emit = (def: MetricDef, m: RawMetric, i: number) => {
    const field = `metrics[${i}](${def.name.slice(0, 64)})`;
    if (isControl(def.name)) return count(c.states, 'omitted:control');
    // §6.4.6 Metric is_transient: "should not be stored in a historian".
    if (def.transient || m.isTransient === true) return count(c.states, 'omitted:is_transient');
    // is_null: the value is null (missing), never 0.
    if (m.isNull === true) return count(c.states, 'omitted:is_null');
    const datatype = def.datatype ?? (m.datatype ? m.datatype : undefined);
    if (datatype === undefined) {
      rejects.push({ code: 'invalid_envelope', field, deviceId, reason: `${field}: no datatype, neither in its BIRTH nor in the metric (${SPEC} tck-id-payloads-metric-datatype-req)` });
      return;
    }
    if (!isStoredDatatype(datatype)) return count(c.states, `omitted:datatype ${datatypeName(datatype)}`);
    if (valueField(m) === undefined) {
      rejects.push({ code: 'invalid_value', field, deviceId, reason: `${field}: no value and is_null not set (${SPEC} §6.4.6 Metric value)` });
      return;
    }
    const v = decodeValue(m, datatype);
    if (!v.ok) {
      rejects.push({ code: 'invalid_value', field, deviceId, reason: `${field}: ${v.reason}` });
      return;
    }
    // The metric timestamp is when the value was captured (§6.4.6 Metric timestamp); the payload's
    // is when the message was published, used only when a metric has none.
    const t = has(m, 'timestamp') ? u64(m.timestamp) : payloadTime;
    entries.push({ key: profileKey(choice, def.name), value: v.value, unit: def.unit, time: t !== undefined ? new Date(t) : undefined, field });
  };

  if (type === 'NBIRTH' || type === 'DBIRTH') {
    const table = newTable();
    fillTable(table, metrics, rejects, deviceId);
    if (type === 'NBIRTH') st.node = table;
    else {
      // tck-id-payloads-alias-uniqueness: an alias is unique across the edge node's metrics.
      // Lookups are per device, so a clash costs nothing here, but it is reported.
      const clash = [...table.byAlias.keys()].filter((a) => st.node.byAlias.has(a) || [...st.devices].some(([d, ds]) => d !== device && ds.metrics.byAlias.has(a)));
      if (clash.length > 0) rejects.push({ code: 'invalid_envelope', field: 'metrics', deviceId, reason: `metrics: alias ${clash.slice(0, 10).join(', ')} already used by another metric of node ${group}/${node} (${SPEC} tck-id-payloads-alias-uniqueness); each device keeps its own` });
      const known = st.devices.get(device!);
      // A DBIRTH older than the device's current one (reordered) keeps the newer definitions.
      if (!known || pos === undefined || pos >= known.bornPos) st.devices.set(device!, { metrics: table, bornPos: pos ?? st.pos, online: true });
    }
    deviceStatus.push({ deviceId, online: true, at, reason: type });
    metrics.forEach((m, i) => {
      if (has(m, 'name') && m.name) emit(defOf(m), m, i);
    });
  } else if (type === 'DDEATH') {
    // §5.7 Device Session Termination: the device is offline as of the DDEATH's payload timestamp.
    const known = st.devices.get(device!);
    if (known && (pos === undefined || pos >= known.bornPos)) known.online = false;
    deviceStatus.push({ deviceId, online: false, at, reason: 'DDEATH' });
  } else {
    const table = type === 'NDATA' ? st.node : st.devices.get(device!)?.metrics;
    const unknown: string[] = [];
    metrics.forEach((m, i) => {
      const alias = has(m, 'alias') ? u64(m.alias) : undefined;
      const name = has(m, 'name') && m.name ? m.name : undefined;
      if (alias === undefined && name === undefined) {
        rejects.push({ code: 'invalid_envelope', field: `metrics[${i}]`, deviceId, reason: `metrics[${i}]: a metric needs a name or an alias (${SPEC} tck-id-payloads-name-requirement)` });
        return;
      }
      const def = (alias !== undefined ? table?.byAlias.get(alias) : undefined) ?? (name !== undefined ? table?.byName.get(name) : undefined);
      if (!def) {
        unknown.push(alias !== undefined ? `alias ${alias}` : JSON.stringify(name!.slice(0, 64)));
        return;
      }
      if (def.datatype !== undefined && m.datatype && m.datatype !== def.datatype) {
        rejects.push({ code: 'invalid_value', field: `metrics[${i}](${def.name.slice(0, 64)})`, deviceId, reason: `metrics[${i}](${def.name.slice(0, 64)}): datatype ${datatypeName(m.datatype ?? undefined)} differs from the ${datatypeName(def.datatype)} its BIRTH declared` });
        return;
      }
      emit(def, m, i);
    });
    if (unknown.length > 0) {
      const birth = type === 'NDATA' ? `the last NBIRTH of node ${group}/${node}` : st.devices.has(device!) ? `the last DBIRTH of device ${device}` : `any DBIRTH (device ${device} was never born in this session)`;
      // With a gap open, the missing messages may hold the BIRTH: the window's deadline decides.
      const waiting = st.reorder !== undefined;
      if (!waiting) requestRebirth(c, st, `${type} metric not in its BIRTH`);
      rejects.push({
        code: 'unknown_alias',
        field: 'metrics',
        deviceId,
        reason: `metrics: ${unknown.slice(0, 10).join(', ')} not defined by ${birth}; ${waiting ? 'a seq gap is open: rebirth requested if it is not filled within the reorder timeout' : 'rebirth requested'} (${SPEC} §5.15 Host Application Receive Data)`,
      });
    }
  }
  const mapped = mapKeys(deviceId, entries, choice);
  rejects.push(...mapped.rejects);
  return result(mapped.readings);
}

/**
 * Places a message in the node's stream by its seq (§6.4.5 Payload seq: +1 per message, 255 -> 0),
 * opening, filling or extending the reorder window (§5.9 Host Application Message Ordering).
 * Returns the message's position.
 */
function place(c: Ctx, state: NodeState, seq: number, message: InboundMessage, deviceId: string): number {
  const last = state.pos;
  const d = (seq - (last % 256) + 256) % 256;
  if (d === 1) {
    state.pos = last + 1;
    return state.pos;
  }
  if (d === 0) return last; // the newest message again (a redelivery): idempotent writes absorb it
  if (d < 128) {
    // Ahead: the d - 1 messages in between have not arrived (yet).
    const pos = last + d;
    state.pos = pos;
    const expected = (last + 1) % 256;
    if (c.o.reorderTimeoutMs === 0) {
      c.rejects.push({ code: 'sequence_error', field: 'seq', deviceId, reason: `seq: expected ${expected}, got ${seq}: messages from node ${c.group}/${c.node} were lost (reorder timeout 0), rebirth requested` });
      requestRebirth(c, state, `seq gap ${expected} -> ${seq}`);
      return pos;
    }
    const w = (state.reorder ??= {
      missing: new Set(),
      deadline: c.now.getTime() + c.o.reorderTimeoutMs,
      opener: { topic: message.topic, payload: message.payload, receivedAt: message.receivedAt, deviceId, expected, got: seq },
    });
    for (let p = last + 1; p < pos; p++) w.missing.add(p);
    return pos;
  }
  // Behind: an earlier message arriving late. Within the window it fills the gap.
  const pos = last - (256 - d);
  const w = state.reorder;
  if (w?.missing.delete(pos) && w.missing.size === 0) {
    // tck-id-operational-behavior-host-reordering-success: timer stopped, no rebirth.
    state.reorder = undefined;
    count(c.states, 'reorder:filled');
  }
  return pos;
}

/** Sparkplug names are paths (`Sensors/Ambient/Temperature`): the full path first, then its last segment. */
function profileKey(choice: ProfileChoice, name: string): string {
  if (resolveKey(choice, name) !== undefined) return name;
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last && resolveKey(choice, last) !== undefined ? last : name;
}
