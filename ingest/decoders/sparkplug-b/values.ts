/**
 * Sparkplug B metric values read from the raw protobuf, by datatype (Eclipse Sparkplug 3.0.0,
 * chapter 6 "Payloads", §6.4.16 "Data Types" and §6.4.17 "Datatype Details"). The datatype comes from
 * the metric's BIRTH: DATA messages SHOULD NOT carry it (tck-id-payloads-metric-datatype-not-req),
 * and the Tahu `decodePayload` helper returns `null` for every metric without one, so the
 * decoder reads the protobuf `oneof value` itself.
 */
import protoModule from 'sparkplug-payload/lib/sparkplugPayloadProto.js';

const tahu = protoModule.org.eclipse.tahu.protobuf;
export const RawPayload = tahu.Payload;

/** The fields of a decoded protobuf Metric the decoder reads (§6.4.1 "Google Protocol Buffer Schema"). */
export interface RawMetric {
  name?: string | null;
  alias?: unknown;
  timestamp?: unknown;
  datatype?: number | null;
  isTransient?: boolean | null;
  isNull?: boolean | null;
  properties?: { keys?: string[] | null; values?: Array<{ stringValue?: string | null }> | null } | null;
  intValue?: number | null;
  longValue?: unknown;
  floatValue?: number | null;
  doubleValue?: number | null;
  booleanValue?: boolean | null;
}
export interface RawPayloadMessage {
  timestamp?: unknown;
  seq?: unknown;
  metrics?: RawMetric[] | null;
}

/** Decodes the protobuf without interpreting values (throws on bytes that are no Payload). */
export function decodeRaw(bytes: Uint8Array): RawPayloadMessage {
  return RawPayload.decode(bytes) as unknown as RawPayloadMessage;
}

/** Sparkplug datatype enum (§6.4.16), index = enum value. */
export const DATATYPE_NAMES = [
  'Unknown', 'Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double', 'Boolean', 'String', 'DateTime', 'Text',
  'UUID', 'DataSet', 'Bytes', 'File', 'Template', 'PropertySet', 'PropertySetList',
  'Int8Array', 'Int16Array', 'Int32Array', 'Int64Array', 'UInt8Array', 'UInt16Array', 'UInt32Array', 'UInt64Array', 'FloatArray', 'DoubleArray', 'BooleanArray', 'StringArray', 'DateTimeArray',
] as const;

export function datatypeName(code: number | undefined): string {
  return code !== undefined && code >= 0 && code < DATATYPE_NAMES.length ? DATATYPE_NAMES[code]! : `unknown datatype ${String(code)}`;
}

/** Datatypes Vigie stores as observations: the integers, Float, Double and Boolean. */
export function isStoredDatatype(code: number): boolean {
  return code >= 1 && code <= 11;
}

/** The `oneof value` field a metric carries (protobufjs names it), or undefined when none is set. */
export function valueField(m: RawMetric): string | undefined {
  return (m as unknown as { value?: string }).value;
}

export function has(m: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, field);
}

interface LongBits {
  low: number;
  high: number;
}
function isLong(v: unknown): v is LongBits {
  return v !== null && typeof v === 'object' && typeof (v as LongBits).low === 'number' && typeof (v as LongBits).high === 'number';
}
/** The 64 bits of a uint64 field (protobufjs gives a Long object, or a number when small). */
function bits64(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt.asUintN(64, BigInt(v));
  if (isLong(v)) return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return undefined;
}

/** uint64 fields (timestamps, seq, alias, bdSeq) to a JS number. */
export function u64(v: unknown): number | undefined {
  const b = bits64(v);
  return b === undefined ? undefined : Number(b);
}

export type Decoded = { ok: true; value: number | boolean } | { ok: false; reason: string };

/**
 * One numeric or boolean value by its datatype. Integers travel in `int_value` (uint32) or
 * `long_value` (uint64) (§6.4.17: Int8..UInt32 are uint32, Int64/UInt64 uint64; some encoders,
 * Tahu's JavaScript one among them, put UInt32 in long_value): the bits are read as the
 * datatype says, so a signed Int8 -1 sent sign-extended (0xFFFFFFFF) or not (0xFF) is -1.
 */
export function decodeValue(m: RawMetric, datatype: number): Decoded {
  const field = valueField(m);
  const name = datatypeName(datatype);
  const mismatch = (): Decoded => ({ ok: false, reason: `a ${name} value is expected, the metric carries ${field ?? 'no value'}` });
  if (datatype >= 1 && datatype <= 8) {
    const raw = field === 'intValue' ? BigInt((m.intValue ?? 0) >>> 0) : field === 'longValue' ? bits64(m.longValue) : undefined;
    if (raw === undefined) return mismatch();
    const lo = Number(BigInt.asUintN(32, raw)) | 0;
    switch (datatype) {
      case 1: return { ok: true, value: (lo << 24) >> 24 };
      case 2: return { ok: true, value: (lo << 16) >> 16 };
      case 3: return { ok: true, value: lo | 0 };
      case 5: return { ok: true, value: lo & 0xff };
      case 6: return { ok: true, value: lo & 0xffff };
      case 7: return { ok: true, value: lo >>> 0 };
      default: {
        const big = datatype === 4 ? BigInt.asIntN(64, raw) : raw;
        const n = Number(big);
        // A float8 column holds integers exactly up to 2^53; beyond, storing would change the value.
        if (!Number.isSafeInteger(n)) return { ok: false, reason: `${name} ${big.toString()} is beyond 2^53 and cannot be stored exactly` };
        return { ok: true, value: n };
      }
    }
  }
  if (datatype === 9) {
    if (field !== 'floatValue') return mismatch();
    // IEEE 754 single precision: 12.3 arrives as 12.30000019; 7 significant digits is all it held.
    return { ok: true, value: Number((m.floatValue ?? 0).toPrecision(7)) };
  }
  if (datatype === 10) return field === 'doubleValue' ? { ok: true, value: m.doubleValue ?? 0 } : mismatch();
  if (datatype === 11) return field === 'booleanValue' ? { ok: true, value: m.booleanValue === true } : mismatch();
  return { ok: false, reason: `${name} is not stored` };
}

/** A PropertySet value that is a string (e.g. the `engUnit` property), else undefined. */
export function stringProperty(m: RawMetric, key: string): string | undefined {
  const ps = m.properties;
  if (!ps?.keys) return undefined;
  const i = ps.keys.findIndex((k) => k === key || k.toLowerCase() === key.toLowerCase());
  if (i < 0) return undefined;
  const v = ps.values?.[i];
  return v && typeof v.stringValue === 'string' && has(v, 'stringValue') ? v.stringValue : undefined;
}
