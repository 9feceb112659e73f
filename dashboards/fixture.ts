/**
 * A small département pushed through the real ingest path (native format over MQTT into the
 * test platform): road-weather stations, a traffic counter, a school with sensors, a meter and a
 * boiler, four days of hourly readings and fresh readings that raise, resolve and leave open
 * alerts with the project's own rules. Used by dashboards.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ackAlert } from '../services/alerting/store/alerts.ts';
import { refreshAggregate } from '../services/store/timescale.ts';
import type { StorageMode } from '../test/helpers/database.ts';
import { startTestPlatform, type TestPlatform } from '../test/helpers/platform.ts';
import { waitFor } from '../test/helpers/wait.ts';

const REGISTRY = `devices:
  - { id: rws-a, name: RD910 PR42, kind: road-weather-station, domain: roads, position: { lat: 46.64, lon: 0.36 }, road: { route: RD910, pr: 42, direction: both }, periodSeconds: 360 }
  - { id: rws-b, name: RD347 PR12, kind: road-weather-station, domain: roads, position: { lat: 46.72, lon: 0.50 }, road: { route: RD347, pr: 12, direction: both }, periodSeconds: 360 }
  - { id: rws-c, kind: road-weather-station, domain: roads, position: { lat: 46.60, lon: 0.40 }, road: { route: RD347, pr: 20, direction: both }, periodSeconds: 360 }
  - { id: rws-d, kind: road-weather-station, domain: roads, road: { route: RD951, pr: 3, direction: both }, periodSeconds: 360 }
  - { id: tc-a, kind: traffic-counter, domain: roads, position: { lat: 46.63, lon: 0.35 }, road: { route: RD910, pr: 40, direction: increasing }, periodSeconds: 360 }
  - { id: clg-s1, kind: building-sensor, domain: buildings, building: { building: "college l'Europe", zone: salle-1 }, periodSeconds: 600 }
  - { id: clg-s2, kind: building-sensor, domain: buildings, building: { building: "college l'Europe", zone: salle-2 }, periodSeconds: 600 }
  - { id: clg-meter, kind: meter, domain: buildings, building: { building: "college l'Europe", zone: chaufferie }, periodSeconds: 600 }
  - { id: clg-boiler, kind: boiler, domain: buildings, building: { building: "college l'Europe", zone: chaufferie }, periodSeconds: 600 }
`;

export interface Fixture {
  tp: TestPlatform;
  now: Date;
  stop(): Promise<void>;
}

export async function startFixture(storage: StorageMode): Promise<Fixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-dash-'));
  const registry = path.join(dir, 'devices.yaml');
  writeFileSync(registry, REGISTRY);
  const tp = await startTestPlatform({ env: { VIGIE_REGISTRY: registry }, storage });
  const pub = await tp.publisher();
  const send = (id: string, body: unknown) => pub.publishAsync(`${tp.prefix}vigie/${id}/telemetry`, JSON.stringify(body), { qos: 1 });
  const now = new Date();
  const hour0 = Math.floor(now.getTime() / 3_600_000) * 3_600_000 - 4 * 86_400_000;
  let expected = 0;
  const count = (b: { metrics?: object; channels?: Record<string, object> }) =>
    (expected += Object.keys(b.metrics ?? {}).length + Object.values(b.channels ?? {}).reduce((n, c) => n + Object.keys(c).length, 0));
  let energy = 1000;
  let water = 50;
  for (let i = 0; i < 4 * 24; i++) {
    const ts = hour0 + i * 3_600_000;
    const h = new Date(ts).getUTCHours();
    const cold = -2 + 5 * Math.sin(((h - 9) / 24) * 2 * Math.PI);
    const bodies: Array<[string, { ts: number; metrics?: Record<string, number>; channels?: Record<string, Record<string, number>> }]> = [
      ['rws-a', { ts, metrics: { surface_temperature: cold, freezing_point: -1.5, dew_point: cold - 1, air_temperature: cold + 1, surface_state: cold < 0 ? 5 : 3, precipitation_rate: h % 6 === 0 ? 1.2 : 0, wind_speed: 3 + (h % 4), wind_gust: 7 + (h % 5) } }],
      ['rws-b', { ts, metrics: { surface_temperature: cold + 2, dew_point: cold, surface_state: 3, precipitation_rate: 0, wind_speed: 2, wind_gust: 4 } }],
      ['tc-a', { ts, channels: { lane1: { vehicle_count: 40 + h, heavy_vehicle_count: 4, mean_speed: 80 + (h % 7), occupancy: 5 + (h % 3) }, lane2: { vehicle_count: 30 + h, heavy_vehicle_count: 3, mean_speed: 85, occupancy: 4 } } }],
      ['clg-s1', { ts, metrics: { air_temperature: 19 + (h % 3), co2: 600 + 60 * (h % 20), relative_humidity: 45, occupancy_state: h >= 7 && h < 17 ? 1 : 0 } }],
      ['clg-s2', { ts, metrics: { air_temperature: 20, co2: 500 + 40 * (h % 24), occupancy_state: h >= 7 && h < 17 ? 1 : 0 } }],
      ['clg-meter', { ts, metrics: { energy: (energy += 12.5), water_volume: (water += 0.25) } }],
      ['clg-boiler', { ts, metrics: { boiler_state: h >= 5 && h < 20 ? 1 : 0, fault: 0 } }],
    ];
    for (const [id, b] of bodies) {
      count(b);
      await send(id, b);
    }
    if (i === 50) {
      // A meter exchange: the new counter starts from zero and has counted 3 kWh a minute later.
      energy = 3;
      const reset = { ts: ts + 60_000, metrics: { energy } };
      count(reset);
      await send('clg-meter', reset);
    }
  }
  // Fresh readings: falling wet surface near freezing on rws-a, ice on rws-b, a boiler fault,
  // a CO2 peak that clears on clg-s1 and one that stays on clg-s2.
  const t = now.getTime();
  const fresh: Array<[string, { ts: number; metrics: Record<string, number> }]> = [];
  for (const [k, minutes] of [18, 12, 6, 1].entries()) {
    fresh.push(['rws-a', { ts: t - minutes * 60_000, metrics: { surface_temperature: 0.4 - 0.3 * k, freezing_point: -1.5, dew_point: -3, surface_state: 5 } }]);
    fresh.push(['rws-b', { ts: t - minutes * 60_000, metrics: { surface_temperature: -1, dew_point: -4, surface_state: 5 } }]);
    fresh.push(['rws-c', { ts: t - minutes * 60_000, metrics: { surface_state: 9 } }]);
  }
  // rws-d's last reading is 40 minutes old: more than two 6-minute periods.
  fresh.push(['rws-d', { ts: t - 40 * 60_000, metrics: { surface_temperature: -3, surface_state: 5 } }]);
  fresh.push(['clg-s1', { ts: t - 5 * 60_000, metrics: { co2: 1600 } }], ['clg-s2', { ts: t - 5 * 60_000, metrics: { co2: 1650 } }], ['clg-boiler', { ts: t - 4 * 60_000, metrics: { fault: 1 } }]);
  for (const [id, b] of fresh.filter(([, b]) => Object.keys(b.metrics).length)) {
    count(b);
    await send(id, b);
  }
  const trafficNow = { ts: t - 60_000, channels: { lane1: { vehicle_count: 80, heavy_vehicle_count: 9, mean_speed: 40, occupancy: 22 } } };
  count(trafficNow);
  await send('tc-a', trafficNow);
  await waitFor(async () => {
    const { rows } = await tp.platform.pool.query(`select count(*)::int as n from alerts where state = 'firing'`);
    return rows[0].n >= 3;
  }, 60_000, 'the CO2 and boiler alerts');
  const clear = { ts: t - 2 * 60_000, metrics: { co2: 900 } };
  count(clear);
  await send('clg-s1', clear);
  // A payload that is not JSON: a dead letter.
  await pub.publishAsync(`${tp.prefix}vigie/clg-s1/telemetry`, 'not json', { qos: 1 });
  await waitFor(async () => {
    const { rows } = await tp.platform.pool.query(`select (select count(*)::int from observations) as n, (select count(*)::int from dead_letters) as dl, (select count(*)::int from alerts where state = 'resolved') as resolved`);
    return rows[0].n === expected && rows[0].dl === 1 && rows[0].resolved >= 1;
  }, 60_000, `${expected} observations, a dead letter and a resolved alert`);
  if (storage === 'timescale') {
    // The four days above arrived below the continuous aggregates' watermark (backfill): in
    // production the refresh policy (every 5 minutes) covers them; here, at once.
    for (const view of ['cagg_hourly', 'cagg_daily'] as const) await refreshAggregate(tp.platform.pool, view, null, null);
  }
  const { rows } = await tp.platform.pool.query(`select id from alerts where rule_id = 'boiler-fault' and state <> 'resolved'`);
  await ackAlert(tp.platform.pool, String(rows[0].id), 'astreinte', 'technician on the way', new Date());
  return {
    tp,
    now,
    async stop() {
      await tp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
