/**
 * Time-zone arithmetic with Intl only (no dependency): the ingest reads zone-less device times
 * in a configured zone (FIWARE NGSI `VIGIE_NGSI_LOCAL_ZONE`), and the query side builds
 * Europe/Paris calendar buckets (services/timeseries/buckets.ts).
 *
 * Local wall-clock times do not map one-to-one to instants. Vigie resolves them as RFC 5545
 * section 3.3.5 does (and Temporal's `disambiguation: 'compatible'`):
 * - a local time that occurs twice (autumn change, e.g. 02:30 on 2026-10-25 in Europe/Paris) is
 *   the FIRST occurrence, still on summer time (02:30+02:00 = 00:30Z);
 * - a local time that does not occur (spring gap, e.g. 02:30 on 2026-03-29 in Europe/Paris) is
 *   read with the offset in force before the gap (02:30+01:00 = 01:30Z, shown as 03:30+02:00).
 */

/** Offset in minutes of `zone` from UTC at the given instant, e.g. +60 for Europe/Paris in winter. */
export function zoneOffsetMinutes(zone: string, utcMillis: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMillis));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(utcMillis / 1000) * 1000) / 60000);
}

/** Zone transitions are never closer than this, so the offsets a day either side bracket any change. */
const DAY = 86_400_000;

/**
 * Wall-clock time in `zone` (given as the UTC millis of the same fields) to the UTC instant, with
 * the RFC 5545 rule above. Throws a RangeError for an unknown zone (Intl's).
 */
export function localToUtc(wallMillis: number, zone: string): number {
  if (zone === 'UTC') return wallMillis;
  // The offsets in force a day before and a day after: the earlier (larger, summer) one first.
  const before = zoneOffsetMinutes(zone, wallMillis - DAY);
  const after = zoneOffsetMinutes(zone, wallMillis + DAY);
  const candidates = before === after ? [before] : [before, after].sort((a, b) => b - a);
  for (const offset of candidates) {
    const utc = wallMillis - offset * 60_000;
    // This offset names the wall time if the zone really has that offset at that instant.
    if (zoneOffsetMinutes(zone, utc) === offset) return utc;
  }
  // No candidate matches: the wall time is in a gap. Use the offset before the gap.
  return wallMillis - before * 60_000;
}

/** The local zone of calendar figures (daily rollups, TMJA/TMJO days, peak hours): French departmental roads. */
export const LOCAL_ZONE = 'Europe/Paris';
