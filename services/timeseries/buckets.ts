/**
 * Bucket specs for series queries: `1m`..`12h` are fixed lengths aligned on the Unix epoch
 * (UTC); `1d`, `1w` (ISO weeks, Monday) and `1M` are calendar units in the request's time zone,
 * so a day bucket on a DST change lasts 23 or 25 hours (test/timeseries/dst.test.ts).
 *
 * Bucket starts are computed by PostgreSQL (`date_trunc(unit, time, zone)` on instants, and
 * local midnights converted back with `at time zone`). In Europe/Paris the clock changes at 02:00
 * and 03:00, so no local midnight is ever repeated or skipped and every bucket start is
 * unambiguous. Zone-less request times are refused (services/timeseries/routes/params.ts); the
 * ingest resolves zone-less device times as schemas/time-zone.ts says (first occurrence).
 */
import { zoneOffsetMinutes } from '../../schemas/time-zone.ts';
import { VigieError } from '../errors.ts';

export type CalendarUnit = 'day' | 'week' | 'month';

export type BucketSpec =
  | { kind: 'fixed'; text: string; seconds: number }
  | { kind: 'calendar'; text: string; unit: CalendarUnit };

const MIN_SECONDS = 60;
const MAX_FIXED_SECONDS = 7 * 86400;

export function parseBucket(text: string): BucketSpec {
  const m = /^(\d{1,4})(s|m|h|d|w|M)$/.exec(text);
  if (!m) throw badBucket(text);
  const n = Number(m[1]);
  const unit = m[2]!;
  if (n < 1) throw badBucket(text);
  if (unit === 'd' || unit === 'w' || unit === 'M') {
    if (n !== 1) throw new VigieError('VIGIE_ERR_VALIDATION', `bucket ${text}: calendar buckets are 1d, 1w or 1M`, { statusCode: 400 });
    return { kind: 'calendar', text, unit: unit === 'd' ? 'day' : unit === 'w' ? 'week' : 'month' };
  }
  const seconds = n * (unit === 's' ? 1 : unit === 'm' ? 60 : 3600);
  if (seconds < MIN_SECONDS || seconds > MAX_FIXED_SECONDS) throw badBucket(text);
  return { kind: 'fixed', text, seconds };
}

function badBucket(text: string): VigieError {
  return new VigieError('VIGIE_ERR_VALIDATION', `bucket ${text}: expected 1m to 1M, e.g. 1m, 6m, 15m, 1h, 3h, 1d, 1w, 1M`, { statusCode: 400 });
}

/** Upper bound of the bucket count between from and to (exclusive), for the size guard. */
export function estimateBuckets(spec: BucketSpec, from: Date, to: Date): number {
  const span = Math.max(0, to.getTime() - from.getTime()) / 1000;
  if (spec.kind === 'fixed') return Math.ceil(span / spec.seconds) + 1;
  const min = spec.unit === 'day' ? 23 * 3600 : spec.unit === 'week' ? 7 * 86400 - 3600 : 28 * 86400;
  return Math.ceil(span / min) + 1;
}

/** Offset of `tz` from UTC at `t`, in minutes. */
export function tzOffsetMinutes(tz: string, t: Date): number {
  return zoneOffsetMinutes(tz, t.getTime());
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * True when every local hour of `tz` over [from, to] starts on a UTC hour, so local days,
 * weeks and months are unions of UTC-hour rollups. Checked at both ends and every 30 days in
 * between (zones change offset at most a few times a year).
 */
export function wholeHourZone(tz: string, from: Date, to: Date): boolean {
  for (let t = from.getTime(); ; t += 30 * 86400_000) {
    const at = new Date(Math.min(t, to.getTime()));
    if (tzOffsetMinutes(tz, at) % 60 !== 0) return false;
    if (at.getTime() >= to.getTime()) return true;
  }
}
