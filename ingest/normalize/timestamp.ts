/**
 * Timestamps as devices really send them: ISO 8601 with `Z`, with an offset, with nanoseconds;
 * epoch seconds, milliseconds, microseconds or nanoseconds; numbers sent as strings. All
 * become a UTC Date.
 *
 * A date-time without a zone is refused (`invalid_timestamp`), unless the wire format's own
 * standard names the zone to assume (FIWARE NGSI: VIGIE_NGSI_LOCAL_ZONE). Read as UTC, a
 * local-time reading from a French device would be filed one hour off in winter and two in
 * summer, silently; RFC 3339 §4.4 calls such a time "unqualified" and not an instant. The
 * native format, The Things Stack and ChirpStack always send a zone (README, "The native wire
 * format").
 */
import { localToUtc, zoneOffsetMinutes } from '../../schemas/time-zone.ts';

export { zoneOffsetMinutes };

export type TimestampResult = { ok: true; time: Date; parsedString: boolean } | { ok: false; reason: string };

// Magnitudes that separate the epoch units for any date between 1973 and 5138.
const SECONDS_LIMIT = 1e11;
const MILLIS_LIMIT = 1e14;
const MICROS_LIMIT = 1e17;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

export function epochToDate(n: number): Date {
  const abs = Math.abs(n);
  if (abs < SECONDS_LIMIT) return new Date(n * 1000);
  if (abs < MILLIS_LIMIT) return new Date(n);
  if (abs < MICROS_LIMIT) return new Date(n / 1000);
  return new Date(n / 1e6);
}

export interface ParseTimestampOptions {
  /**
   * Zone assumed for ISO strings without one (FIWARE `dateObserved` may have none; unset: refused). A time the
   * autumn change repeats is its first (summer-time) occurrence; one the spring change skips
   * is read with the offset before the gap (schemas/time-zone.ts, RFC 5545 section 3.3.5).
   */
  assumeZone?: string;
}

export function parseTimestamp(input: unknown, options: ParseTimestampOptions = {}): TimestampResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, reason: `expected a finite epoch number, got ${String(input)}` };
    return { ok: true, time: epochToDate(input), parsedString: false };
  }
  if (typeof input !== 'string') {
    return { ok: false, reason: `expected an ISO 8601 string or epoch number, got ${describe(input)}` };
  }
  const text = input.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) {
    return { ok: true, time: epochToDate(Number(text)), parsedString: true };
  }
  const m = ISO.exec(text);
  if (!m) return { ok: false, reason: `expected an ISO 8601 timestamp, got ${JSON.stringify(text.slice(0, 64))}` };
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return { ok: false, reason: `timestamp ${JSON.stringify(text)} has an out-of-range field` };
  }
  // Date keeps milliseconds; sub-millisecond digits (The Things Stack sends nanoseconds) are truncated.
  const millis = Number((frac + '000').slice(0, 3));
  const wall = Date.UTC(Number(y), month - 1, day, hour, minute, Math.min(second, 59), millis);
  if (new Date(wall).getUTCDate() !== day) {
    return { ok: false, reason: `timestamp ${JSON.stringify(text)} names a day that does not exist` };
  }
  let utc: number;
  if (zone === undefined) {
    if (!options.assumeZone) {
      return { ok: false, reason: `timestamp ${JSON.stringify(text)} has no time zone: add Z (UTC) or an offset such as +01:00 (RFC 3339 §5.6)` };
    }
    try {
      utc = localToUtc(wall, options.assumeZone);
    } catch {
      return { ok: false, reason: `unknown time zone ${options.assumeZone}` };
    }
  } else if (zone === 'Z' || zone === 'z') {
    utc = wall;
  } else {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    utc = wall - sign * offset * 60000;
  }
  return { ok: true, time: new Date(utc), parsedString: false };
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
