/**
 * Moves every timestamp inside a payload by a fixed offset, in each wire format's own time
 * fields, so that a recorded night replays as tonight:
 * - native: `ts` and the passage times `t` of vehicle records;
 * - The Things Stack v3: `received_at` (top level and `uplink_message`), `time`, `gps_time`
 *   and `received_at` of `rx_metadata[]` (not `timestamp`, a gateway's microsecond counter);
 * - ChirpStack v4: `time`, and `gwTime`/`nsTime`/`time` of `rxInfo[]`;
 * - SenML (RFC 8428 §4.5.3): absolute `bt`, and absolute `t` where no absolute base time
 *   applies; relative times (below 2^28) are left alone; JSON and CBOR (labels -3 and 6);
 * - Sparkplug B: the payload `timestamp` and every metric's `timestamp` (the protobuf of the
 *   Eclipse Tahu library decoded and re-encoded, values untouched);
 * - NGSI: `dateObserved`, `dateObservedFrom`, `dateObservedTo`, `observedAt` and `TimeInstant`
 *   metadata, in keyValues, normalized (`{type, value}`) and NGSI-LD (`{"@type", "@value"}`).
 * ISO strings keep their form (zone or offset, sub-millisecond digits); a zone-less NGSI
 * date-time is moved on its wall clock. A payload that does not parse is returned unchanged.
 */
import { Decoder, Encoder } from 'cbor-x';
import protoModule from 'sparkplug-payload/lib/sparkplugPayloadProto.js';

/** The Sparkplug B protobuf itself: timestamps are moved without decoding values (DATA metrics carry no datatype). */
const Proto = protoModule.org.eclipse.tahu.protobuf.Payload;
const cborDecoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const cborEncoder = new Encoder({ mapsAsObjects: false, useRecords: false });
/** RFC 8428 §4.5.3: values below 2^28 are relative to now. */
const SENML_ABSOLUTE = 2 ** 28;
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/;
const TIME_KEYS = new Set(['received_at', 'time', 'gps_time', 'gwTime', 'nsTime', 'dateObserved', 'dateObservedFrom', 'dateObservedTo', 'observedAt', 'TimeInstant']);

/** Shifts an ISO 8601 string, keeping its zone form and precision; undefined if not one. */
export function shiftIso(text: string, deltaMs: number): string | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, base, frac = '', zone] = m;
  const ms = Number((frac + '000').slice(0, 3));
  const extra = frac.slice(3);
  const wall = Date.parse(`${base!.length === 16 ? `${base}:00` : base}Z`) + ms;
  if (Number.isNaN(wall)) return undefined;
  const shifted = new Date(wall + deltaMs).toISOString(); // wall clock of the same zone
  const newMs = shifted.slice(20, 23);
  // As many fraction digits as the original, more only if the shift needs them.
  const digits = frac.length >= 3 ? 3 : Math.max(frac.length, newMs.replace(/0+$/, '').length);
  const fraction = digits > 0 ? `.${newMs.slice(0, digits)}${extra}` : '';
  return `${shifted.slice(0, base!.length === 16 ? 16 : 19)}${fraction}${zone ?? ''}`;
}

/** An epoch number in ms or s (by magnitude, as the native format reads it). */
function shiftEpoch(v: number, deltaMs: number): number {
  return Math.abs(v) < 1e11 ? v + deltaMs / 1000 : v + deltaMs;
}

function shiftTimeValue(v: unknown, deltaMs: number): unknown {
  if (typeof v === 'string') return shiftIso(v, deltaMs) ?? v;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = { ...(v as Record<string, unknown>) };
    if ('value' in o) o.value = shiftTimeValue(o.value, deltaMs);
    if ('@value' in o) o['@value'] = shiftTimeValue(o['@value'], deltaMs);
    return o;
  }
  return v;
}

/** Deep walk: every known time key, wherever it sits (entity attributes, metadata, rx metadata). */
function shiftJsonTimes(v: unknown, deltaMs: number): unknown {
  if (Array.isArray(v)) return v.map((x) => shiftJsonTimes(x, deltaMs));
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = TIME_KEYS.has(k) ? shiftJsonTimes(shiftTimeValue(x, deltaMs), deltaMs) : shiftJsonTimes(x, deltaMs);
  return out;
}

function shiftNative(m: Record<string, unknown>, deltaMs: number): Record<string, unknown> {
  const out = { ...m };
  if (typeof out.ts === 'string') out.ts = shiftIso(out.ts, deltaMs) ?? out.ts;
  else if (typeof out.ts === 'number') out.ts = shiftEpoch(out.ts, deltaMs);
  if (out.vehicles && typeof out.vehicles === 'object') {
    out.vehicles = Object.fromEntries(
      Object.entries(out.vehicles as Record<string, unknown>).map(([lane, list]) => [
        lane,
        Array.isArray(list) ? list.map((r) => (r && typeof r === 'object' ? { ...r, t: typeof r.t === 'number' ? shiftEpoch(r.t, deltaMs) : typeof r.t === 'string' ? (shiftIso(r.t, deltaMs) ?? r.t) : r.t } : r)) : list,
      ]),
    );
  }
  return out;
}

/** SenML records: (get, set) access so JSON objects and CBOR maps share the logic. */
function shiftSenml<R>(records: R[], get: (r: R, k: 'bt' | 't') => unknown, set: (r: R, k: 'bt' | 't', v: number) => void, deltaS: number): void {
  let baseAbsolute = false;
  for (const r of records) {
    const bt = get(r, 'bt');
    if (typeof bt === 'number') {
      baseAbsolute = bt >= SENML_ABSOLUTE;
      if (baseAbsolute) set(r, 'bt', bt + deltaS);
    }
    const t = get(r, 't');
    if (!baseAbsolute && typeof t === 'number' && t >= SENML_ABSOLUTE) set(r, 't', t + deltaS);
  }
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return undefined;
}

export function shiftPayload(topic: string, payload: Buffer, deltaMs: number): Buffer {
  if (deltaMs === 0) return payload;
  const levels = topic.split('/');
  if (levels.includes('spBv1.0')) {
    try {
      const p = Proto.decode(payload) as unknown as { timestamp?: unknown; metrics?: Array<{ timestamp?: unknown }> };
      // Only fields present on the wire (a decoded message shows defaults for absent ones).
      const own = (o: object) => Object.prototype.hasOwnProperty.call(o, 'timestamp');
      const ts = own(p) ? toNumber(p.timestamp) : undefined;
      if (ts !== undefined) p.timestamp = ts + deltaMs;
      for (const m of p.metrics ?? []) {
        const mt = own(m) ? toNumber(m.timestamp) : undefined;
        if (mt !== undefined) m.timestamp = mt + deltaMs;
      }
      return Buffer.from(Proto.encode(p as never).finish());
    } catch {
      return payload;
    }
  }
  const first = payload[0] ?? 0;
  if (first >= 0x80 && first <= 0x9f) {
    // CBOR array: a SenML pack with integer labels (RFC 8428 §6: bt = -3, t = 6).
    try {
      const records = cborDecoder.decode(payload) as Array<Map<number, unknown>>;
      if (!Array.isArray(records) || !records.every((r) => r instanceof Map)) return payload;
      const label = { bt: -3, t: 6 } as const;
      shiftSenml(records, (r, k) => r.get(label[k]), (r, k, v) => r.set(label[k], v), deltaMs / 1000);
      return Buffer.from(cborEncoder.encode(records));
    } catch {
      return payload;
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return payload;
  }
  if (levels.at(-1) === 'senml' && Array.isArray(json)) {
    const records = json as Array<Record<string, unknown>>;
    shiftSenml(records, (r, k) => r[k], (r, k, v) => (r[k] = v), deltaMs / 1000);
    return Buffer.from(JSON.stringify(records));
  }
  if (levels.at(-1) === 'telemetry' && json && typeof json === 'object' && !Array.isArray(json)) return Buffer.from(JSON.stringify(shiftNative(json as Record<string, unknown>, deltaMs)));
  return Buffer.from(JSON.stringify(shiftJsonTimes(json, deltaMs)));
}
