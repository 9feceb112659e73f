/**
 * Time-zone offsets with Intl only (no dependency): the ingest reads zone-less device times
 * in a configured zone, and the query side builds Europe/Paris calendar buckets.
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
