/**
 * Imports of files road operators already have, into recordings of native messages (one
 * `vigie/<station>/telemetry` message per station and period), ready for `vigie replay`.
 *
 * Traffic counts, the common 6-minute shape (one row per station, lane and period):
 *   station;lane;period_start;count;heavy;mean_speed;occupancy
 *   tc-rd910-pr40;1;2026-01-13T07:00:00+01:00;64;7;82.5;6.1
 * `lane` becomes channel `lane<n>` (or is kept when it is not a number); the message is dated
 * at the end of the period (the count is complete then), `flow` is derived (count x 3600 /
 * period); an empty, `-1` or `-` speed or occupancy is missing, not zero.
 *
 * Road-weather station export (one row per station and time; any subset of the columns):
 *   station;time;air_temperature;relative_humidity;dew_point;surface_temperature;
 *   subsurface_temperature;freezing_point;water_film;surface_state;precipitation_rate;
 *   visibility;wind_speed;wind_gust;wind_direction;pressure
 * in canonical units (°C, %, mm, NTCIP 1204 essSurfaceStatus code, mm/h, m, m/s, deg, hPa).
 * Empty cells and the NTCIP 1204 "missing" sentinels of the raw fields as exported (1001 for a
 * temperature, 101 for humidity, 65535) are left out.
 *
 * Separator `;` or `,` (detected from the header); times ISO 8601 with a zone, or without one
 * in `zone` (default Europe/Paris: an hour repeated in autumn is read as its first occurrence).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { zoneOffsetMinutes } from '../../schemas/time-zone.ts';
import { openWriter } from './format.ts';

const MISSING = new Set(['', '-', 'NA', 'NaN', 'null']);

function localToUtc(text: string, zone: string): number {
  if (/(Z|[+-]\d\d:?\d\d)$/.test(text)) return Date.parse(text);
  const wall = Date.parse(`${text.replace(' ', 'T')}Z`);
  if (Number.isNaN(wall)) return NaN;
  // A repeated local hour is its first occurrence, a skipped one takes the offset before the
  // gap (RFC 5545 §3.3.5), as the platform reads zone-less NGSI times.
  const before = zoneOffsetMinutes(zone, wall - 12 * 3_600_000);
  const t1 = wall - before * 60_000;
  if (zoneOffsetMinutes(zone, t1) === before) return t1;
  const after = zoneOffsetMinutes(zone, wall + 12 * 3_600_000);
  const t2 = wall - after * 60_000;
  return zoneOffsetMinutes(zone, t2) === after ? t2 : t1;
}

function rows(file: string): Array<Record<string, string>> {
  const text = readFileSync(file, 'utf8');
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = header.split(';').length > header.split(',').length ? ';' : ',';
  return parse(text, { columns: (h: string[]) => h.map((x) => x.trim().toLowerCase()), delimiter, skip_empty_lines: true, trim: true, bom: true }) as Array<Record<string, string>>;
}

const num = (v: string | undefined) => (v === undefined || MISSING.has(v.trim()) ? undefined : Number(v.replace(',', '.')));
/** Counting stations send -1 for a speed or occupancy they could not measure. */
const measured = (v: string | undefined) => (v?.trim() === '-1' ? undefined : num(v));

export interface ImportResult {
  rows: number;
  messages: number;
  skipped: Array<{ line: number; reason: string }>;
}

export async function importTrafficCsv(file: string, out: string, o: { periodSeconds?: number; zone?: string } = {}): Promise<ImportResult> {
  const period = o.periodSeconds ?? 360;
  const skipped: ImportResult['skipped'] = [];
  const messages = new Map<string, { station: string; t: number; channels: Record<string, Record<string, number>> }>();
  const data = rows(file);
  data.forEach((r, i) => {
    const line = i + 2;
    const start = localToUtc(r.period_start ?? '', o.zone ?? 'Europe/Paris');
    const count = num(r.count);
    if (!r.station || Number.isNaN(start) || count === undefined || !Number.isFinite(count)) return skipped.push({ line, reason: 'needs station, period_start and count' });
    const t = start + period * 1000;
    const lane = /^\d+$/.test(r.lane ?? '') ? `lane${r.lane}` : r.lane || 'lane1';
    const key = `${r.station}\u0000${t}`;
    const m = messages.get(key) ?? { station: r.station, t, channels: {} };
    const heavy = num(r.heavy);
    const speed = measured(r.mean_speed);
    const occ = measured(r.occupancy);
    m.channels[lane] = {
      vehicle_count: count,
      flow: Math.round((count * 3600) / period),
      ...(heavy !== undefined ? { heavy_vehicle_count: heavy } : {}),
      ...(speed !== undefined && count > 0 ? { mean_speed: speed } : {}),
      ...(occ !== undefined ? { occupancy: occ } : {}),
    };
    messages.set(key, m);
  });
  return write(out, file, [...messages.values()].map((m) => ({ station: m.station, t: m.t, body: { ts: new Date(m.t).toISOString(), channels: m.channels } })), data.length, skipped);
}

const WEATHER_COLUMNS = ['air_temperature', 'relative_humidity', 'dew_point', 'surface_temperature', 'subsurface_temperature', 'freezing_point', 'water_film', 'surface_state', 'precipitation_rate', 'visibility', 'wind_speed', 'wind_gust', 'wind_direction', 'pressure'];
const SENTINELS: Record<string, number[]> = { relative_humidity: [101, 255], surface_state: [255, 65535] };
const isSentinel = (col: string, v: number) => v === 1001 || v === 65535 || (SENTINELS[col] ?? []).includes(v);

export async function importWeatherCsv(file: string, out: string, o: { zone?: string } = {}): Promise<ImportResult> {
  const skipped: ImportResult['skipped'] = [];
  const data = rows(file);
  const list: Array<{ station: string; t: number; body: unknown }> = [];
  data.forEach((r, i) => {
    const line = i + 2;
    const t = localToUtc(r.time ?? '', o.zone ?? 'Europe/Paris');
    if (!r.station || Number.isNaN(t)) return skipped.push({ line, reason: 'needs station and time' });
    const metrics: Record<string, number> = {};
    for (const c of WEATHER_COLUMNS) {
      const v = num(r[c]);
      if (v !== undefined && Number.isFinite(v) && !isSentinel(c, v)) metrics[c] = v;
    }
    if (Object.keys(metrics).length === 0) return skipped.push({ line, reason: 'no value' });
    list.push({ station: r.station, t, body: { ts: new Date(t).toISOString(), metrics } });
  });
  return write(out, file, list, data.length, skipped);
}

async function write(out: string, source: string, list: Array<{ station: string; t: number; body: unknown }>, nRows: number, skipped: ImportResult['skipped']): Promise<ImportResult> {
  list.sort((a, b) => a.t - b.t || a.station.localeCompare(b.station));
  const w = openWriter(out, { createdAt: new Date().toISOString(), source, note: 'imported by vigie import; receive time = observation time' });
  for (const m of list) w.write({ t: m.t, topic: `vigie/${m.station}/telemetry`, qos: 1, retain: false, payload: Buffer.from(JSON.stringify(m.body)) });
  await w.close();
  return { rows: nRows, messages: list.length, skipped };
}
