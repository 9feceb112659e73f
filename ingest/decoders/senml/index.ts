/**
 * SenML packs (RFC 8428, versions and features of RFC 9100, units of RFC 8798) in JSON (§5)
 * or CBOR (§6), on `vigie/<deviceId>/senml`. See README.md.
 */
import { Decoder as CborDecoder } from 'cbor-x';
import { z } from 'zod';
import type { Reject } from '../../../schemas/index.ts';
import type { DecodeContext, Decoder, DecodeResult, InboundMessage, Reading } from '../../decoder.ts';
import { describe } from '../../normalize/timestamp.ts';
import { profilesFor } from '../../profiles/map-keys.ts';
import { parseJson } from '../json.ts';
import { readingsOf } from './readings.ts';
import { resolvePack } from './resolve.ts';
import { checkVersion } from './version.ts';

export const senmlOptionsSchema = z.object({}).strict();
export const SENML_TOPIC = 'vigie/+/senml';

/** RFC 8428 §6 Table 4: CBOR integer labels to JSON labels ("this table is conclusive"). */
const CBOR_LABELS: Record<number, string> = { [-1]: 'bver', [-2]: 'bn', [-3]: 'bt', [-4]: 'bu', [-5]: 'bv', [-6]: 'bs', 0: 'n', 1: 'u', 2: 'v', 3: 'vs', 4: 'vb', 5: 's', 6: 't', 7: 'ut', 8: 'vd' };

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
    // An integer label outside Table 4 is no SenML label (extensions use text labels, §6).
    // A CBOR integer beyond 2^53 (a bigint here) is still a number (§6): as a double.
    for (const [k, v] of rec) out[typeof k === 'number' ? (CBOR_LABELS[k] ?? `cbor:${k}`) : String(k)] = typeof v === 'bigint' ? Number(v) : v;
    return out;
  });
}

function decode(message: InboundMessage, context: DecodeContext): DecodeResult {
  // vigie/<deviceId>/senml; on other routed topics, the level before a final `senml`, else the last level.
  const parts = message.topic.split('/');
  const deviceId = parts[parts.length - 1] === 'senml' ? parts[parts.length - 2] : parts[parts.length - 1];
  if (!deviceId) return { readings: [], rejects: [{ code: 'invalid_topic', reason: `expected topic vigie/<deviceId>/senml, got ${message.topic}` }] };
  const refuse = (reject: Omit<Reject, 'deviceId'>): DecodeResult => ({ deviceId, readings: [], rejects: [{ ...reject, deviceId }] });
  const parsed = parsePack(message.payload);
  if (!parsed.ok) return refuse(parsed.reject);
  const pack = parsed.pack;
  if (!Array.isArray(pack)) return refuse({ code: 'invalid_envelope', reason: `a SenML pack is an array of records (RFC 8428 §4), got ${describe(pack)}` });
  if (pack.length === 0) return refuse({ code: 'invalid_envelope', reason: 'the SenML pack is empty' });

  let version: ReturnType<typeof checkVersion> & { ok: true } = { ok: true, version: 10, secondaryUnits: false };
  let versionFrom = -1;
  for (let i = 0; i < pack.length; i++) {
    const rec: unknown = pack[i];
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec) || rec instanceof Uint8Array) {
      return refuse({ code: 'invalid_envelope', field: `[${i}]`, reason: `[${i}]: a record is an object, got ${describe(rec)}` });
    }
    // §4.4: a label ending in "_" must be understood, else the pack is in error; Vigie defines none.
    const mustUnderstand = Object.keys(rec).find((k) => k.endsWith('_'));
    if (mustUnderstand) {
      return refuse({ code: 'invalid_envelope', field: `[${i}].${mustUnderstand}`, reason: `[${i}].${mustUnderstand}: must-understand label (RFC 8428 §4.4) that Vigie does not know; the pack is not used` });
    }
    const bver = (rec as SenmlRecord).bver;
    if (bver === undefined) continue;
    const checked = checkVersion(bver);
    if (!checked.ok) return refuse({ code: 'unsupported_version', field: `[${i}].bver`, reason: `[${i}].bver: ${checked.reason}` });
    // §4.4: all records of a pack have the same version (10 until a record says otherwise).
    const before = versionFrom < 0 ? (i > 0 ? 10 : checked.version) : version.version;
    if (checked.version !== before) {
      return refuse({
        code: 'invalid_envelope',
        field: `[${i}].bver`,
        reason: `[${i}].bver: version ${checked.version} after records of version ${before}; all records of a pack have the same version (RFC 8428 §4.4)`,
      });
    }
    version = checked;
    versionFrom = i;
  }

  const resolved = resolvePack(pack as SenmlRecord[], deviceId, message.receivedAt);
  if (!resolved.ok) return refuse(resolved.reject);
  const ownNames = [deviceId, context.device(deviceId)?.tags.senmlName].filter((x): x is string => !!x).map((x) => x.replace(/[:/]+$/, ''));
  const mapped = readingsOf(deviceId, resolved.records, {
    choice: profilesFor(context, deviceId),
    ownNames,
    secondaryUnits: version.secondaryUnits,
  });
  return { deviceId, readings: mapped.readings satisfies Reading[], rejects: [...resolved.rejects, ...mapped.rejects] };
}
