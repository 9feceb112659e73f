/**
 * Resolution of a SenML pack into resolved records (RFC 8428 §4.6): base fields applied in
 * pack order (§4, §4.1), name = bn + n (§4.5.1), time = bt + t with times below 2^28 relative
 * to the receive time (§4.5.3), value = bv + v and sum = bs + s (§4.5.4), unit = u else bu
 * (§4.5.2). Labels are those of Table 1 (§4.3); labels Vigie does not know are ignored (§4.4).
 */
import type { Reject } from '../../../schemas/index.ts';
import { describe } from '../../normalize/timestamp.ts';

/** §4.5.3: times below 2^28 are relative to "now". */
export const RELATIVE_LIMIT = 2 ** 28;
/** §4.5.1: characters of a resolved name, starting with a letter or digit. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:./_]*$/;

export type SenmlValue = { label: 'v'; value: number } | { label: 'vb'; value: boolean } | { label: 'vs'; value: string } | { label: 'vd' };

export interface ResolvedRecord {
  index: number;
  name: string;
  unit?: string;
  value?: SenmlValue;
  sum?: number;
  /** Resolved time, ms since the epoch. */
  timeMs: number;
  /** The time was relative (§4.5.3): resolved against the receive time. */
  relative: boolean;
}

export type ResolveResult = { ok: true; records: ResolvedRecord[]; rejects: Reject[] } | { ok: false; reject: Reject };

type Rec = Record<string, unknown>;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBytes = (v: unknown): boolean => v instanceof Uint8Array;

/** Expected type of each regular field (§4.3 Table 1; vd is a byte string in CBOR, §6). */
const REGULAR: Record<string, [(v: unknown) => boolean, string]> = {
  n: [(v) => typeof v === 'string', 'a string'],
  u: [(v) => typeof v === 'string', 'a string'],
  v: [isNumber, 'a number'],
  vs: [(v) => typeof v === 'string', 'a string'],
  vb: [(v) => typeof v === 'boolean', 'a boolean'],
  vd: [(v) => typeof v === 'string' || isBytes(v), 'a base64url string (a byte string in CBOR)'],
  s: [isNumber, 'a number'],
  t: [isNumber, 'a number of seconds'],
  ut: [isNumber, 'a number of seconds'],
};
const BASE: Record<string, [(v: unknown) => boolean, string]> = {
  bn: [(v) => typeof v === 'string', 'a string'],
  bt: [isNumber, 'a number of seconds'],
  bu: [(v) => typeof v === 'string', 'a string'],
  bv: [isNumber, 'a number'],
  bs: [isNumber, 'a number'],
};

export function resolvePack(pack: Rec[], deviceId: string, receivedAt: Date): ResolveResult {
  const records: ResolvedRecord[] = [];
  const rejects: Reject[] = [];
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  let bs: number | undefined;
  const nowMs = receivedAt.getTime();
  for (let i = 0; i < pack.length; i++) {
    const rec = pack[i]!;
    const at = `[${i}]`;
    // A base field applies to this record and all later ones (§4): a bad one spoils the rest of
    // the pack, so the pack is not used rather than resolved against the wrong base.
    for (const [label, [ok, expected]] of Object.entries(BASE)) {
      if (rec[label] !== undefined && !ok(rec[label])) {
        return { ok: false, reject: { code: 'invalid_envelope', deviceId, field: `${at}.${label}`, reason: `${at}.${label}: expected ${expected}, got ${describe(rec[label])}; later records depend on it, so the pack is not used (RFC 8428 §4)` } };
      }
    }
    if (rec.bn !== undefined) bn = rec.bn as string;
    if (rec.bt !== undefined) bt = rec.bt as number;
    if (rec.bu !== undefined) bu = rec.bu as string;
    if (rec.bv !== undefined) bv = rec.bv as number;
    if (rec.bs !== undefined) bs = rec.bs as number;

    const bad = (label: string | undefined, reason: string) =>
      rejects.push({ code: 'invalid_envelope', deviceId, field: label ? `${at}.${label}` : at, reason: `${at}${label ? `.${label}` : ''}: ${reason}` });
    const wrong = Object.entries(REGULAR).find(([label, [ok]]) => rec[label] !== undefined && !ok(rec[label]));
    if (wrong) {
      bad(wrong[0], `expected ${wrong[1][1]}, got ${describe(rec[wrong[0]])}`);
      continue;
    }
    const valueLabels = (['v', 'vs', 'vb', 'vd'] as const).filter((k) => rec[k] !== undefined);
    // §4.5.4: with a base sum in force, every record has a sum (bs + s, s missing = 0).
    const sum = rec.s !== undefined || bs !== undefined ? (bs ?? 0) + ((rec.s as number | undefined) ?? 0) : undefined;
    if (valueLabels.length > 1) {
      bad(undefined, `a record holds exactly one value field, got ${valueLabels.join(', ')} (RFC 8428 §4.2)`);
      continue;
    }
    if (valueLabels.length === 0 && sum === undefined) {
      // A record of base fields only (e.g. RFC 8428 §5.1.7) just sets them.
      if (Object.keys(rec).every((k) => k.startsWith('b'))) continue;
      bad(undefined, 'a record needs exactly one of v, vs, vb, vd unless it has a sum s (RFC 8428 §4.2)');
      continue;
    }
    const name = bn + ((rec.n as string | undefined) ?? '');
    if (name === '') {
      bad('n', 'the record has no name: neither bn nor n (RFC 8428 §4.2)');
      continue;
    }
    if (!NAME.test(name)) {
      bad('n', `name ${JSON.stringify(name.slice(0, 64))} is not a valid SenML name (RFC 8428 §4.5.1)`);
      continue;
    }
    const time = bt + ((rec.t as number | undefined) ?? 0);
    const relative = time < RELATIVE_LIMIT;
    // Rounded to the millisecond: 1.276020076001e+09 * 1000 is not an integer in binary.
    const timeMs = Math.round(relative ? nowMs + time * 1000 : time * 1000);
    let value: SenmlValue | undefined;
    if (rec.v !== undefined) value = { label: 'v', value: bv + (rec.v as number) };
    else if (rec.vb !== undefined) value = { label: 'vb', value: rec.vb as boolean };
    else if (rec.vs !== undefined) value = { label: 'vs', value: rec.vs as string };
    else if (rec.vd !== undefined) value = { label: 'vd' };
    const unit = (rec.u as string | undefined) ?? bu;
    records.push({ index: i, name, unit, value, sum, timeMs, relative });
  }
  return { ok: true, records, rejects };
}
