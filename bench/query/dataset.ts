/**
 * A realistic département-sized dataset, generated straight into PostgreSQL with COPY:
 * - traffic: `lanes` lanes (two per station) at 6-minute periods (French real-time practice),
 *   vehicle count with night trough and 08:00/17:30 peaks, heavy vehicles (~10 %), mean speed;
 * - road weather: stations at 6-minute periods (surface and air temperature, dew point,
 *   surface state) with a daily cycle;
 * - buildings: zones with CO2, air temperature and occupancy at 10 minutes, and one energy
 *   counter per building (with a reset in the middle of the year).
 * Rows are streamed device by device, so memory stays flat whatever the size.
 */
import { createRandom } from '../../simulators/fleet/random.ts';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface DatasetOptions {
  lanes: number;
  roadStations: number;
  buildings: number;
  zonesPerBuilding: number;
  days: number;
  /** First day (UTC midnight). */
  start: Date;
  seed: number;
}

export interface DeviceSpec {
  id: string;
  kind: string;
  domain: string;
  periodSeconds: number;
  building?: { building: string; zone: string };
  metrics: string[];
  channels: string[];
}

export function devicesFor(o: DatasetOptions): DeviceSpec[] {
  const out: DeviceSpec[] = [];
  for (let s = 0; s < Math.ceil(o.lanes / 2); s++) {
    const lanes = Math.min(2, o.lanes - 2 * s);
    out.push({ id: `tc-${String(s).padStart(4, '0')}`, kind: 'traffic-counter', domain: 'roads', periodSeconds: 360, metrics: ['vehicle_count', 'heavy_vehicle_count', 'mean_speed'], channels: lanes === 2 ? ['lane1', 'lane2'] : ['lane1'] });
  }
  for (let s = 0; s < o.roadStations; s++) {
    out.push({ id: `rws-${String(s).padStart(3, '0')}`, kind: 'road-weather-station', domain: 'roads', periodSeconds: 360, metrics: ['surface_temperature', 'air_temperature', 'dew_point', 'surface_state'], channels: [''] });
  }
  for (let b = 0; b < o.buildings; b++) {
    const building = `clg-${String(b).padStart(3, '0')}`;
    out.push({ id: `${building}-meter`, kind: 'meter', domain: 'buildings', periodSeconds: 600, building: { building, zone: 'chaufferie' }, metrics: ['energy'], channels: [''] });
    for (let z = 0; z < o.zonesPerBuilding; z++) {
      out.push({ id: `${building}-s${z}`, kind: 'building-sensor', domain: 'buildings', periodSeconds: 600, building: { building, zone: `salle-${z}` }, metrics: ['co2', 'air_temperature', 'occupancy_state'], channels: [''] });
    }
  }
  return out;
}

export function countRows(o: DatasetOptions): number {
  return devicesFor(o).reduce((n, d) => n + (o.days * 86400 / d.periodSeconds) * d.metrics.length * d.channels.length, 0);
}

/** The simulators' seeded PRNG (mulberry32), so bench data is reproducible too. */
const rng = createRandom;

const peak = (h: number, c: number, w: number) => Math.exp(-((h - c) ** 2) / (2 * w * w));

/** COPY text rows of observation_values: time, value, series id, batch id, quality (null: 0). */
function* rowsFor(d: DeviceSpec, o: DatasetOptions, random: () => number, seriesId: (metric: string, channel: string) => number, batch: number): Generator<string> {
  const periods = (o.days * 86400) / d.periodSeconds;
  const t0 = o.start.getTime();
  let energy = 1000 * random();
  let chunk = '';
  for (let i = 0; i < periods; i++) {
    const t = t0 + i * d.periodSeconds * 1000;
    const ts = new Date(t).toISOString();
    // Paris local hour, close enough for shapes (+1 h; DST does not matter to the load).
    const hour = ((t / 3600_000 + 1) % 24 + 24) % 24;
    const dow = new Date(t + 3600_000).getUTCDay();
    const weekday = dow >= 1 && dow <= 5;
    for (const ch of d.channels) {
      const values: Array<[string, number]> = [];
      if (d.kind === 'traffic-counter') {
        const flow = (60 + (weekday ? 700 * peak(hour, 8, 1) + 550 * peak(hour, 17.5, 1.3) : 150 * peak(hour, 11, 3)) + 300 * peak(hour, 13, 3)) * (0.9 + random() * 0.2);
        const count = Math.max(0, Math.round((flow * d.periodSeconds) / 3600));
        values.push(['vehicle_count', count], ['heavy_vehicle_count', Math.round(count * (0.08 + random() * 0.04))]);
        if (count > 0) values.push(['mean_speed', Math.round((88 - 40 * Math.min(1, flow / 1800) ** 3 + (random() - 0.5) * 6) * 10) / 10]);
      } else if (d.kind === 'road-weather-station') {
        const day = Math.floor(i / 240);
        const season = 6 - 8 * Math.cos((2 * Math.PI * (day - 15)) / 365);
        const surface = season + 5 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + (random() - 0.5);
        values.push(['surface_temperature', Math.round(surface * 10) / 10], ['air_temperature', Math.round((surface + 1) * 10) / 10], ['dew_point', Math.round((surface - 2) * 10) / 10], ['surface_state', surface < 1 && random() < 0.3 ? 5 : 3]);
      } else if (d.kind === 'meter') {
        const occupied = weekday && hour >= 8 && hour < 18;
        energy += ((occupied ? 35 : 8) * d.periodSeconds) / 3600;
        if (i === Math.floor(periods / 2)) energy = 0; // a meter exchange: the counter resets
        values.push(['energy', Math.round(energy * 1000) / 1000]);
      } else {
        const occupied = weekday && hour >= 8 && hour < 18;
        values.push(['co2', Math.round(occupied ? 550 + 900 * (((hour - 8) % 2) / 2) + random() * 80 : 420 + random() * 20)], ['air_temperature', Math.round(((occupied ? 20.5 : 17) + random() - 0.5) * 10) / 10], ['occupancy_state', occupied ? 1 : 0]);
      }
      for (const [m, v] of values) chunk += `${ts}\t${v}\t${seriesId(m, ch)}\t${batch}\t\\N\n`;
    }
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * Loads everything with COPY straight into observation_values (series created first, one
 * ingest batch per device), then the latest value of every series; `onDevice` reports progress.
 */
export async function loadDataset(pool: pg.Pool, o: DatasetOptions, onDevice: (done: number, total: number) => void): Promise<void> {
  const devices = devicesFor(o);
  await pool.query(
    `insert into devices (id, kind, domain, registered, period_seconds, building)
     select id, kind, domain, true, period_seconds, building from jsonb_to_recordset($1::jsonb) as d(id text, kind text, domain text, period_seconds int, building jsonb)`,
    [JSON.stringify(devices.map((d) => ({ id: d.id, kind: d.kind, domain: d.domain, period_seconds: d.periodSeconds, building: d.building ?? null })))],
  );
  const keys = devices.flatMap((d) => d.metrics.flatMap((m) => d.channels.map((c) => [d.id, m, c])));
  const { rows: series } = await pool.query<{ id: number; device_id: string; metric: string; channel: string }>(
    `insert into series (device_id, metric, channel) select * from unnest($1::text[], $2::text[], $3::text[])
     on conflict (device_id, metric, channel) do update set metric = excluded.metric returning id, device_id, metric, channel`,
    [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2])],
  );
  const ids = new Map(series.map((r) => [`${r.device_id}|${r.metric}|${r.channel}`, r.id]));
  const random = rng(o.seed);
  // Two COPY streams in parallel (one per core); devices are dealt round-robin.
  const lanesOfWork = [0, 1].map((k) => devices.filter((_, i) => i % 2 === k));
  let done = 0;
  await Promise.all(
    lanesOfWork.map(async (mine) => {
      const client = await pool.connect();
      try {
        for (const d of mine) {
          const { rows } = await client.query<{ id: number }>(`insert into ingest_batches (received_at) values (now()) returning id`);
          const stream = client.query(copyFrom('copy observation_values (time, value, series_id, batch_id, quality) from stdin'));
          await pipeline(Readable.from(rowsFor(d, o, random, (m, c) => ids.get(`${d.id}|${m}|${c}`)!, rows[0]!.id)), stream);
          onDevice(++done, devices.length);
        }
      } finally {
        client.release();
      }
    }),
  );
  // One index probe per series (the primary key read backwards), not a scan of the history.
  await pool.query(
    `insert into latest_values (series_id, time, received_at, value, quality)
     select s.id, l.time, b.received_at, l.value, coalesce(l.quality, 0)
       from series s
       cross join lateral (select * from observation_values v where v.series_id = s.id order by time desc limit 1) l
       join ingest_batches b on b.id = l.batch_id
     on conflict (series_id) do nothing`,
  );
}
