/**
 * Applies device profiles to key/value payloads (LoRaWAN decoded payloads, SenML names,
 * Sparkplug metric names). Lookup order: the device's own profile, then the built-in
 * `default` profile, then the catalogue metric name itself. A key none of them maps is
 * reported as an `unmapped_key` reject (it is never dropped silently), unless a profile
 * lists it under `ignore`.
 */
import { DEFAULT_PROFILE, METRICS, isMetricName, type DeviceProfile, type ProfileKey, type QualityFlag, type Reject } from '../../schemas/index.ts';
import type { DecodeContext, Reading } from '../decoder.ts';
import { convertUnit } from '../normalize/units.ts';

export interface KeyedValue {
  /** Key as the device names it (dotted path for nested objects). */
  key: string;
  value: unknown;
  /** Unit carried by the payload itself (SenML `u`), which wins over the profile's. */
  unit?: string;
  time?: Date;
  /** Channel carried by the payload itself. */
  channel?: string;
  /** Where the value sits in the payload, for reasons. */
  field: string;
  /** Extra flags from the wire format (e.g. parsed_string already applied). */
  quality?: QualityFlag[];
}

export interface ProfileChoice {
  profiles: DeviceProfile[];
  /** Profile names tried, for reasons ("default" when the device has none). */
  names: string[];
  /** A profile named by the registry but not loaded: reported once per message. */
  missing?: string;
}

/** The profiles that apply to a device: its registry profile (or a hint from the payload), then `default`. */
export function profilesFor(context: DecodeContext, deviceId: string, hint?: string): ProfileChoice {
  const named = context.device(deviceId)?.profile ?? hint;
  const profiles: DeviceProfile[] = [];
  const names: string[] = [];
  let missing: string | undefined;
  if (named && named !== DEFAULT_PROFILE) {
    const p = context.profile(named);
    if (p) {
      profiles.push(p);
      names.push(p.name);
    } else missing = named;
  }
  const d = context.profile(DEFAULT_PROFILE);
  if (d) {
    profiles.push(d);
    names.push(d.name);
  }
  return { profiles, names, missing };
}

function lookup(profile: DeviceProfile, key: string): ProfileKey | 'ignore' | undefined {
  if (Object.prototype.hasOwnProperty.call(profile.keys, key)) return profile.keys[key];
  if (profile.ignore.includes(key)) return 'ignore';
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(profile.keys)) if (k.toLowerCase() === lower) return v;
  if (profile.ignore.some((k) => k.toLowerCase() === lower)) return 'ignore';
  return undefined;
}

/**
 * Keys that name two different quantities across device models: never mapped to one of them
 * unless a profile says which. `occupancy` is a loop's share of time with a vehicle over it
 * (percent, TrafficFlowObserved.occupancy, catalogue metric `occupancy`) on a traffic counter,
 * and room presence (`occupancy_state`) on a building sensor. A boolean can only be presence
 * (a loop occupancy is a percentage), so a true/false value settles it.
 */
export const AMBIGUOUS_KEYS: Record<string, { meanings: string; boolean: ProfileKey }> = {
  occupancy: { meanings: 'loop occupancy in % (metric occupancy) or room presence (metric occupancy_state)', boolean: { metric: 'occupancy_state', binary: true } },
};

export type Resolution = ProfileKey | 'ignore' | { ambiguous: string } | undefined;

/** Resolves one key through the profiles; a catalogue metric name maps to itself unless it is ambiguous. */
export function resolveKey(choice: ProfileChoice, key: string, value?: unknown): Resolution {
  for (const p of choice.profiles) {
    const hit = lookup(p, key);
    if (hit) return hit;
  }
  const ambiguous = AMBIGUOUS_KEYS[key.toLowerCase()];
  if (ambiguous) return typeof value === 'boolean' ? ambiguous.boolean : { ambiguous: ambiguous.meanings };
  if (isMetricName(key)) return { metric: key };
  return undefined;
}

/** A number, a boolean (1/0) or a numeric string; anything else is passed on for the normalizer to reject. */
export function coerceNumber(value: unknown): { value: unknown; parsedString: boolean } {
  if (typeof value === 'boolean') return { value: value ? 1 : 0, parsedString: false };
  if (typeof value === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return { value: Number(value), parsedString: true };
  return { value, parsedString: false };
}

export interface MapResult {
  readings: Reading[];
  rejects: Reject[];
}

export function mapKeys(deviceId: string, entries: KeyedValue[], choice: ProfileChoice): MapResult {
  const readings: Reading[] = [];
  const rejects: Reject[] = [];
  if (choice.missing) {
    rejects.push({
      code: 'unmapped_key',
      deviceId,
      field: 'profile',
      reason: `profile: the registry names profile ${JSON.stringify(choice.missing)}, which is not loaded (ingest/profiles or VIGIE_PROFILES_DIR); the default profile was used`,
    });
  }
  for (const e of entries) {
    const hit = resolveKey(choice, e.key, e.value);
    if (hit === 'ignore') continue;
    if (hit && 'ambiguous' in hit) {
      rejects.push({
        code: 'unmapped_key',
        deviceId,
        field: e.field,
        reason: `${e.field}: key ${JSON.stringify(e.key.slice(0, 64))} can mean ${hit.ambiguous} and no profile says which (tried ${choice.names.join(', ') || 'none'}); map it in the device's profile, then replay`,
      });
      continue;
    }
    if (!hit) {
      rejects.push({
        code: 'unmapped_key',
        deviceId,
        field: e.field,
        reason: `${e.field}: no profile maps key ${JSON.stringify(e.key.slice(0, 64))} (tried ${choice.names.join(', ') || 'none'}); add it to the device's profile, then replay`,
      });
      continue;
    }
    const reading = applyKey(deviceId, e, hit);
    if (reading === null) continue;
    if ('code' in reading) rejects.push(reading);
    else readings.push(reading);
  }
  return { readings, rejects };
}

/** One value through one profile key: sentinels, scaling, unit conversion. Null (or a sentinel) means missing. */
export function applyKey(deviceId: string, e: KeyedValue, key: ProfileKey): Reading | Reject | null {
  if (e.value === null || e.value === undefined) return null;
  const flags: QualityFlag[] = [...(e.quality ?? [])];
  const coerced = coerceNumber(e.value);
  if (coerced.parsedString) flags.push('parsed_string');
  const channel = e.channel ?? key.channel;
  const base = { deviceId, metric: key.metric, channel, time: e.time, field: e.field };
  if (typeof coerced.value !== 'number') return { ...base, value: coerced.value, quality: flags };
  const raw = coerced.value;
  if (key.sentinels?.includes(raw)) return null;
  if (key.binary) return { ...base, value: raw !== 0 ? 1 : 0, quality: raw === 0 || raw === 1 ? flags : [...flags, 'converted'] };
  let value = raw * (key.scale ?? 1) + (key.offset ?? 0);
  const scaled = value !== raw;
  const unit = e.unit ?? key.unit;
  const conv = convertUnit(value, unit, METRICS[key.metric].unit);
  if (!conv.ok) return { code: 'unsupported_unit', deviceId, field: e.field, reason: `${e.field}: ${conv.reason}` };
  value = conv.value;
  if (scaled || conv.converted) flags.push('converted');
  return { ...base, value: Number.isFinite(value) ? Number(value.toPrecision(12)) : value, quality: flags };
}

/** Flattens a decoded payload object into dotted keys (bounded: depth 4, 256 keys). */
export function flatten(obj: Record<string, unknown>, fieldPrefix: string): KeyedValue[] {
  const out: KeyedValue[] = [];
  const walk = (value: unknown, key: string, depth: number) => {
    if (out.length >= 256) return;
    if (value !== null && typeof value === 'object' && depth < 4) {
      const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
      for (const [k, v] of entries) walk(v, key ? `${key}.${k}` : k, depth + 1);
      return;
    }
    out.push({ key, value, field: `${fieldPrefix}${key}` });
  };
  walk(obj, '', 0);
  return out;
}
