/**
 * SenML packs (RFC 8428) in JSON (§5) or CBOR (§6), on `vigie/<deviceId>/senml`. See README.md.
 */
import { Decoder as CborDecoder } from 'cbor-x';
import { z } from 'zod';
import type { Reject } from '../../../schemas/index.ts';
import type { DecodeContext, Decoder, DecodeResult, InboundMessage } from '../../decoder.ts';
import { describe } from '../../normalize/timestamp.ts';
import { mapKeys, profilesFor, type KeyedValue } from '../../profiles/map-keys.ts';
import { parseJson } from '../json.ts';

export const senmlOptionsSchema = z.object({}).strict();
export const SENML_TOPIC = 'vigie/+/senml';

/** RFC 8428 §6 Table 6: CBOR integer labels to JSON labels. */
const CBOR_LABELS: Record<number, string> = { [-1]: 'bver', [-2]: 'bn', [-3]: 'bt', [-4]: 'bu', [-5]: 'bv', [-6]: 'bs', 0: 'n', 1: 'u', 2: 'v', 3: 'vs', 4: 'vb', 5: 's', 6: 't', 7: 'ut', 8: 'vd' };
/** §4.5.3: times below 2^28 are relative to the current time. */
const RELATIVE_LIMIT = 2 ** 28;
/** §4.5.1: names hold these characters and start with a letter or digit. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:./_]*$/;
const KNOWN = new Set(['bver', 'bn', 'bt', 'bu', 'bv', 'bs', 'n', 'u', 'v', 'vs', 'vb', 's', 't', 'ut', 'vd']);

const cbor = new CborDecoder({ mapsAsObjects: false, useRecords: false });

export function createSenmlDecoder(): Decoder {
  return { name: 'senml', decode };
}

type SenmlRecord = Record<string, unknown>;

function parsePack(payload: Buffer): { ok: true; pack: unknown } | { ok: false; reject: Reject } {
  const first = payload.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  // A CBOR pack is an array (major type 4, RFC 8949 §3.1): initial byte 0x80-0x9f.
  if (first !== undefined && first >= 0x80 && first <= 0x9f) {
    try {
      return { ok: true, pack: fromCbor(cbor.decode(payload)) };
    } catch (err) {
      return { ok: false, reject: { code: 'invalid_envelope', reason: `payload looks like CBOR but does not decode: ${(err as Error).message}` } };
    }
  }
  const json = parseJson(payload);
  return json.ok ? { ok: true, pack: json.value } : { ok: false, reject: json.reject };
}

function fromCbor(pack: unknown): unknown {
  if (!Array.isArray(pack)) return pack;
  return pack.map((rec) => {
    if (!(rec instanceof Map)) return rec;
    const out: SenmlRecord = {};
    for (const [k, v] of rec) out[typeof k === 'number' ? (CBOR_LABELS[k] ?? `cbor:${k}`) : String(k)] = v;
    return out;
  });
}

function decode(message: InboundMessage, context: DecodeContext): DecodeResult {
  // vigie/<deviceId>/senml; on other routed topics, the level before a final `senml`, else the last level.
  const parts = message.topic.split('/');
  const deviceId = parts[parts.length - 1] === 'senml' ? parts[parts.length - 2] : parts[parts.length - 1];
  if (!deviceId) return { readings: [], rejects: [{ code: 'invalid_topic', reason: `expected topic vigie/<deviceId>/senml, got ${message.topic}` }] };
  const fail = (reason: string, field?: string): DecodeResult => ({ deviceId, readings: [], rejects: [{ code: 'invalid_envelope', reason, field, deviceId }] });
  const parsed = parsePack(message.payload);
  if (!parsed.ok) return { deviceId, readings: [], rejects: [{ ...parsed.reject, deviceId }] };
  const pack = parsed.pack;
  if (!Array.isArray(pack)) return fail(`a SenML pack is an array of records (RFC 8428 §4), got ${describe(pack)}`);
  if (pack.length === 0) return fail('the SenML pack is empty');

  // §4.4: a label ending in "_" must be understood, else the whole pack is in error.
  for (let i = 0; i < pack.length; i++) {
    const rec: unknown = pack[i];
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return fail(`[${i}]: a record is an object, got ${describe(rec)}`, `[${i}]`);
    const mustUnderstand = Object.keys(rec).find((k) => k.endsWith('_'));
    if (mustUnderstand) return fail(`[${i}].${mustUnderstand}: must-understand label (RFC 8428 §4.4) that Vigie does not know; the pack is rejected`, `[${i}].${mustUnderstand}`);
  }

  const entries: KeyedValue[] = [];
  const rejects: Reject[] = [];
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  let bs = 0;
  const nowSeconds = message.receivedAt.getTime() / 1000;
  for (let i = 0; i < pack.length; i++) {
    const rec = pack[i] as SenmlRecord;
    const at = `[${i}]`;
    const bad = (reason: string, label?: string) => rejects.push({ code: 'invalid_envelope', field: label ? `${at}.${label}` : at, deviceId, reason: `${at}${label ? `.${label}` : ''}: ${reason}` });
    // Base fields apply to this record and all later ones until overridden (§4.1).
    if (rec.bver !== undefined && (typeof rec.bver !== 'number' || rec.bver > 10)) return fail(`${at}.bver: version ${String(rec.bver)} is newer than SenML 10 (RFC 8428 §4.4)`, `${at}.bver`);
    if (rec.bn !== undefined) {
      if (typeof rec.bn !== 'string') {
        bad('bn must be a string', 'bn');
        continue;
      }
      bn = rec.bn;
    }
    for (const [label, setter] of [
      ['bt', (v: number) => (bt = v)],
      ['bv', (v: number) => (bv = v)],
      ['bs', (v: number) => (bs = v)],
    ] as const) {
      const v = rec[label];
      if (v !== undefined) {
        if (typeof v === 'number' && Number.isFinite(v)) setter(v);
        else bad(`expected a number, got ${describe(v)}`, label);
      }
    }
    if (rec.bu !== undefined) bu = typeof rec.bu === 'string' ? rec.bu : undefined;
    const unknown = Object.keys(rec).filter((k) => !KNOWN.has(k));
    if (unknown.length > 0) bad(`unknown label ${unknown.map((k) => JSON.stringify(k.slice(0, 32))).join(', ')}`, unknown[0]);

    const valueLabels = ['v', 'vs', 'vb', 'vd'].filter((k) => rec[k] !== undefined);
    // A record with base fields only (and no value, no sum) just sets the bases.
    if (valueLabels.length === 0 && rec.s === undefined) {
      if (rec.n !== undefined) bad('a record needs exactly one of v, vs, vb, vd or a sum s (RFC 8428 §4.2)');
      continue;
    }
    if (valueLabels.length > 1) {
      bad(`a record holds exactly one value field, got ${valueLabels.join(', ')} (RFC 8428 §4.2)`);
      continue;
    }
    const name = `${bn}${typeof rec.n === 'string' ? rec.n : ''}`;
    if (!NAME.test(name)) {
      bad(`name ${JSON.stringify(name.slice(0, 64))} is not a valid SenML name (RFC 8428 §4.5.1)`, 'n');
      continue;
    }
    const t = rec.t === undefined ? 0 : rec.t;
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      bad(`expected a number of seconds, got ${describe(t)}`, 't');
      continue;
    }
    const resolved = bt + t;
    // §4.5.3: 0 is "roughly now" (no time given): the receive time is used and flagged.
    const time = bt === 0 && rec.t === undefined ? undefined : new Date((resolved < RELATIVE_LIMIT ? nowSeconds + resolved : resolved) * 1000);

    let value: unknown;
    let label: string;
    if (rec.v !== undefined) {
      label = 'v';
      value = typeof rec.v === 'number' ? bv + rec.v : rec.v;
    } else if (rec.vb !== undefined) {
      label = 'vb';
      value = typeof rec.vb === 'boolean' ? rec.vb : rec.vb;
    } else if (rec.vs !== undefined) {
      label = 'vs';
      // Only numeric and boolean values become observations; a numeric string is accepted.
      if (typeof rec.vs !== 'string' || !/^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(rec.vs)) {
        rejects.push({ code: 'invalid_value', deviceId, field: `${at}.vs`, reason: `${at}.vs: ${describe(rec.vs)} of ${name} is not stored (only numeric v and boolean vb become observations)` });
        continue;
      }
      value = rec.vs;
    } else if (rec.vd !== undefined) {
      rejects.push({ code: 'invalid_value', deviceId, field: `${at}.vd`, reason: `${at}.vd: data value of ${name} is not stored (only numeric v and boolean vb become observations)` });
      continue;
    } else {
      // A sum alone (§4.2): the integrated value, e.g. a cumulative energy index.
      label = 's';
      value = typeof rec.s === 'number' ? bs + rec.s : rec.s;
    }
    if (label !== 'vb' && typeof value === 'boolean') value = Number.NaN;
    const u = rec.u !== undefined ? rec.u : bu;
    // Key for the profile: the record's own name part, else the last segment of the base name.
    const own = typeof rec.n === 'string' && rec.n ? rec.n : (bn.split(/[:/]/).filter(Boolean).pop() ?? bn);
    const slash = own.lastIndexOf('/');
    const key = slash > 0 ? own.slice(slash + 1) : own;
    const channel = slash > 0 ? own.slice(0, slash) : undefined;
    entries.push({ key, channel, value, unit: typeof u === 'string' ? u : undefined, time, field: `${at}.${label}` });
  }
  const mapped = mapKeys(deviceId, entries, profilesFor(context, deviceId));
  return { deviceId, readings: mapped.readings, rejects: [...rejects, ...mapped.rejects] };
}
