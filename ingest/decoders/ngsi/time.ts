/**
 * NGSI observation times. Smart Data Models give `dateObserved` "in ISO8601 UTC format. It can
 * be represented by an specific time instant or by an ISO8601 interval" (TrafficFlowObserved,
 * AirQualityObserved doc/spec.md), with `dateObservedFrom`/`dateObservedTo` as the workaround
 * for brokers without intervals. An interval dates its observation at its end, when the count
 * over it is complete.
 */
import { parseTimestamp } from '../../normalize/timestamp.ts';

export type Instant = { ok: true; time: Date } | { ok: false; reason: string };
export type Period = { ok: true; start?: Date; end: Date } | { ok: false; reason: string };

/** ISO 8601 duration (§4.4.3.2, PnYnMnDTnHnMnS or PnW) in milliseconds; years and months are refused (their length varies). */
function durationMillis(text: string): number | undefined {
  const m = /^P(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s.replace(',', '.')));
  return (((n(m[1]) * 7 + n(m[2])) * 24 + n(m[3])) * 60 + n(m[4])) * 60000 + n(m[5]) * 1000;
}

export function instant(raw: unknown, zone: string): Instant {
  const parsed = parseTimestamp(raw, { assumeZone: zone });
  return parsed.ok ? { ok: true, time: parsed.time } : parsed;
}

/**
 * A date-time or an ISO 8601 time interval (§4.4.4: start/end, start/duration, duration/end).
 * Its end is the observation time; the start, when known, gives the counting period.
 */
export function period(raw: unknown, zone: string): Period {
  if (typeof raw !== 'string' || !raw.includes('/')) {
    const t = instant(raw, zone);
    return t.ok ? { ok: true, end: t.time } : t;
  }
  const [a = '', b = '', ...rest] = raw.trim().split('/');
  if (rest.length > 0) return { ok: false, reason: `expected an ISO 8601 date-time or time interval (start/end), got ${JSON.stringify(raw.slice(0, 64))}` };
  const da = a.startsWith('P') ? durationMillis(a) : undefined;
  const db = b.startsWith('P') ? durationMillis(b) : undefined;
  const ta = da === undefined ? instant(a, zone) : undefined;
  const tb = db === undefined ? instant(b, zone) : undefined;
  let start: Date | undefined;
  let end: Date | undefined;
  if (ta?.ok && tb?.ok) [start, end] = [ta.time, tb.time];
  else if (ta?.ok && db !== undefined) [start, end] = [ta.time, new Date(ta.time.getTime() + db)];
  else if (da !== undefined && tb?.ok) [start, end] = [new Date(tb.time.getTime() - da), tb.time];
  if (!start || !end || end < start) {
    return { ok: false, reason: `expected an ISO 8601 date-time or time interval (start/end, start/duration or duration/end, end not before start), got ${JSON.stringify(raw.slice(0, 64))}` };
  }
  return { ok: true, start, end };
}
