/**
 * Resolved SenML records to readings. The resolved name (bn + n, RFC 8428 §4.5.1) identifies
 * the sensor, so it alone decides where a value lands (a pack and its resolved form, §4.6,
 * give the same observations):
 * - a leading segment naming the publishing device itself (its id, or its registry tag
 *   `senmlName`) is dropped: the topic already names the device;
 * - the longest suffix of the rest, starting after a `:` or `/`, that the device's profile,
 *   the default profile or the catalogue maps is the key; what comes before it is the sensor
 *   and becomes the channel (`2001:db8::2/temperature`: channel `2001:db8::2`);
 * - with no such key, a unit that names its quantity in the registry (`%RH`, `%EL`) gives the
 *   metric, and the whole name is the channel (RFC 8428 §5.1.3 separates quantities by unit).
 * Two records of one pack that still land on one (metric, channel, time) are reported.
 */
import { METRICS, channelSchema, type DeviceProfile, type MetricDefinition, type MetricName, type ProfileKey, type QualityFlag, type Reject } from '../../../schemas/index.ts';
import type { Reading } from '../../decoder.ts';
import { fromSenmlUnit, quantityOfUnit, sumFromSenmlUnit } from '../../normalize/senml-units.ts';
import { applyKey, resolveKey, type KeyedValue, type ProfileChoice } from '../../profiles/map-keys.ts';
import type { ResolvedRecord } from './resolve.ts';

export interface ReadingsOptions {
  choice: ProfileChoice;
  /** Names the publishing device goes by (its id, its registry `senmlName`), without a trailing separator. */
  ownNames: string[];
  /** The pack's version includes Secondary Units (RFC 9100 §4). */
  secondaryUnits: boolean;
}

interface Located {
  key: ProfileKey | 'ignore' | undefined;
  /** The name's sensor part, '' when the name is the key alone. */
  sensor: string;
  tried: string[];
  /** The key found can mean two metrics and no profile says which (e.g. `occupancy`). */
  ambiguous?: string;
}

/** The resolved name without the device's own leading segment. */
function withoutOwnName(name: string, own: string[]): string {
  for (const o of own) {
    if (name === o) return '';
    if (name.startsWith(o) && (name[o.length] === ':' || name[o.length] === '/')) return name.slice(o.length + 1);
  }
  return name;
}

/** Suffixes of `rest` starting after a separator, longest first. */
function suffixes(rest: string): Array<{ key: string; sensor: string }> {
  if (rest === '') return [];
  const out = [{ key: rest, sensor: '' }];
  for (let i = 0; i < rest.length - 1; i++) {
    const c = rest[i];
    const next = rest[i + 1];
    if ((c === ':' || c === '/') && next !== ':' && next !== '/') out.push({ key: rest.slice(i + 1), sensor: rest.slice(0, i) });
  }
  return out;
}

function locate(name: string, unit: string | undefined, opts: ReadingsOptions, value: unknown): Located {
  const rest = withoutOwnName(name, opts.ownNames);
  const candidates = suffixes(rest);
  for (const c of candidates) {
    const key = resolveKey(opts.choice, c.key, value);
    if (key && typeof key === 'object' && 'ambiguous' in key) return { key: undefined, sensor: c.sensor, tried: [c.key], ambiguous: key.ambiguous };
    if (key) return { key, sensor: c.sensor, tried: [] };
  }
  const metric = quantityOfUnit(unit);
  if (metric) return { key: { metric: metric as MetricName }, sensor: rest, tried: [] };
  return { key: undefined, sensor: rest, tried: candidates.map((c) => c.key) };
}

/** A profile's SenML unit override: the unit a device sends, and the registry unit it means. */
function override(profiles: DeviceProfile[], unit: string | undefined): string | undefined {
  if (unit === undefined) return undefined;
  for (const p of profiles) if (p.senmlUnits && Object.prototype.hasOwnProperty.call(p.senmlUnits, unit)) return p.senmlUnits[unit];
  return undefined;
}

export function readingsOf(deviceId: string, records: ResolvedRecord[], opts: ReadingsOptions): { readings: Reading[]; rejects: Reject[] } {
  const readings: Reading[] = [];
  const rejects: Reject[] = [];
  const names: string[] = [];
  const push = (r: Reading | Reject | null, name: string) => {
    if (r === null) return;
    if ('code' in r) rejects.push(r);
    else {
      readings.push(r);
      names.push(name);
    }
  };
  for (const rec of records) {
    const at = `[${rec.index}]`;
    const sent = rec.unit;
    const meant = override(opts.choice.profiles, sent);
    const unit = meant ?? sent;
    const { key, sensor, tried, ambiguous } = locate(rec.name, unit, opts, rec.value && "value" in rec.value ? rec.value.value : undefined);
    if (key === 'ignore') continue;
    const channel = sensor === '' ? undefined : sensor;
    if (channel !== undefined && !channelSchema.safeParse(channel).success) {
      rejects.push({
        code: 'invalid_channel',
        deviceId,
        field: `${at}.n`,
        reason: `${at}.n: the sensor part ${JSON.stringify(channel.slice(0, 80))} of ${rec.name.slice(0, 120)} cannot be a channel (at most 64 letters, digits and _ . + - :)`,
      });
      continue;
    }
    const time = new Date(rec.timeMs);
    const quality: QualityFlag[] = rec.relative ? ['time_from_receipt'] : [];
    // A profile naming the unit vouches for it, secondary or not (RFC 8428 §4.5.2: application context).
    const secondaryAllowed = opts.secondaryUnits || meant !== undefined;
    const base = { time, channel, quality };

    if (rec.value?.label === 'vs' || rec.value?.label === 'vd') {
      const what = rec.value.label === 'vs' ? `the string value ${JSON.stringify(rec.value.value.slice(0, 32))}` : 'the data value';
      rejects.push({ code: 'invalid_value', deviceId, field: `${at}.${rec.value.label}`, reason: `${at}.${rec.value.label}: ${what} of ${rec.name} is not stored: the catalogue holds numbers and booleans (v, vb)` });
    } else if (rec.value && !key && ambiguous) {
      rejects.push({
        code: 'unmapped_key',
        deviceId,
        field: `${at}.${rec.value.label}`,
        reason: `${at}.${rec.value.label}: ${JSON.stringify(rec.name.slice(0, 120))} can mean ${ambiguous} and no profile says which (tried ${opts.choice.names.join(', ') || 'none'}); map it in the device's profile, then replay`,
      });
    } else if (rec.value && !key) {
      rejects.push({
        code: 'unmapped_key',
        deviceId,
        field: `${at}.${rec.value.label}`,
        reason: `${at}.${rec.value.label}: no profile maps ${JSON.stringify(rec.name.slice(0, 120))} (tried ${tried.map((k) => JSON.stringify(k.slice(0, 64))).join(', ') || 'no key: the name is the device itself'} in ${opts.choice.names.join(', ') || 'no profile'}${unit ? `; unit ${unit} names no quantity` : ''}); add the key to the device's profile, then replay`,
      });
    } else if (rec.value?.label === 'vb' && key) {
      const metric = METRICS[key.metric];
      if (metric.unit !== 'bool' && !key.binary) {
        rejects.push({ code: 'invalid_value', deviceId, field: `${at}.vb`, reason: `${at}.vb: a boolean of ${rec.name} cannot be ${key.metric}, measured in ${metric.unit}` });
      } else push(applyKey(deviceId, { ...base, key: rec.name, value: rec.value.value, field: `${at}.vb` }, key), rec.name);
    } else if (rec.value?.label === 'v' && key) {
      push(numeric(deviceId, rec.value.value, unit, secondaryAllowed, key, { ...base, key: rec.name, field: `${at}.v` }), rec.name);
    }

    if (rec.sum !== undefined) push(sumReading(deviceId, rec, unit, secondaryAllowed, key, base), rec.name);
  }
  return dropCollisions(deviceId, readings, names, rejects);
}

function numeric(deviceId: string, value: number, unit: string | undefined, secondaryAllowed: boolean, key: ProfileKey, e: Omit<KeyedValue, 'value'>): Reading | Reject | null {
  if (unit === undefined) return applyKey(deviceId, { ...e, value }, key);
  const conv = fromSenmlUnit(value, unit, secondaryAllowed);
  if (!conv.ok) return { code: 'unsupported_unit', deviceId, field: e.field, reason: `${e.field}: ${conv.reason}` };
  return applyKey(deviceId, { ...e, value: conv.value, unit: conv.unit, quality: conv.scaled ? [...(e.quality ?? []), 'converted'] : e.quality }, key);
}

function sumReading(
  deviceId: string,
  rec: ResolvedRecord,
  unit: string | undefined,
  secondaryAllowed: boolean,
  key: ProfileKey | undefined,
  base: { time: Date; channel?: string; quality: QualityFlag[] },
): Reading | Reject | null {
  const field = `[${rec.index}].s`;
  // The unit gives the sum's quantity whatever the name (like %RH a value's): a W sum is energy.
  if (unit !== undefined) {
    const conv = sumFromSenmlUnit(rec.sum!, unit, secondaryAllowed);
    if (!conv.ok) return { code: 'unsupported_unit', deviceId, field, reason: `${field}: the sum of ${rec.name} is not stored: ${conv.reason}` };
    return applyKey(deviceId, { ...base, key: rec.name, value: conv.value, unit: conv.unit, field }, { metric: conv.metric as MetricName });
  }
  // No unit (§4.5.2: the application context tells): a name the profile maps to a cumulative
  // counter carries that counter, in the profile's unit.
  if (key && (METRICS[key.metric] as MetricDefinition).cumulative) return applyKey(deviceId, { ...base, key: rec.name, value: rec.sum!, field }, key);
  return {
    code: 'unsupported_unit',
    deviceId,
    field,
    reason: `${field}: the sum of ${rec.name} has no unit, so its quantity is unknown (RFC 8428 §4.2: unit times seconds), and ${key ? `${key.metric} is not a cumulative counter` : 'no profile maps the name to a cumulative counter'}`,
  };
}

/** Keeps the first record of each (metric, channel, time) of the pack and reports the others. */
function dropCollisions(deviceId: string, readings: Reading[], names: string[], rejects: Reject[]): { readings: Reading[]; rejects: Reject[] } {
  const seen = new Map<string, number>();
  const kept: Reading[] = [];
  readings.forEach((r, i) => {
    // An invalid time is the normalizer's to report (invalid_timestamp), not a collision.
    if (r.time === undefined || Number.isNaN(r.time.getTime())) {
      kept.push(r);
      return;
    }
    const id = `${r.metric}\u0000${r.channel ?? ''}\u0000${r.time.getTime()}`;
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, i);
      kept.push(r);
      return;
    }
    const prev = readings[first]!;
    const where = `(${r.metric}, channel ${JSON.stringify(r.channel ?? '')}, ${r.time?.toISOString()})`;
    rejects.push({
      code: 'duplicate_key',
      deviceId,
      field: r.field,
      reason:
        names[i] === names[first]
          ? `${r.field}: ${names[i]} at ${r.time?.toISOString()} again, after ${prev.field}; only the first is stored`
          : `${r.field}: ${names[i]} lands on the same ${where} as ${names[first]} (${prev.field}); only the first is stored`,
    });
  });
  return { readings: kept, rejects };
}
