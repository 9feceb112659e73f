/** Building consumption from counters (resets, rollovers, DST-safe days) and comfort/CO2 per zone. */
import t from 'tap';
import { insertRows, type Row } from '../helpers/observations.ts';
import { startTestPlatform } from '../helpers/platform.ts';

const tp = await startTestPlatform();
t.teardown(() => tp.stop());
const pool = tp.platform.pool;
await pool.query(
  `insert into devices (id, kind, domain, registered, period_seconds, building, tags) values
   ('m1', 'meter', 'buildings', true, 3600, '{"building":"clg-a","zone":"chaufferie"}', '{}'),
   ('m2', 'meter', 'buildings', true, 3600, '{"building":"clg-a","zone":"chaufferie"}', '{"counterMax":"10000"}'),
   ('s1', 'building-sensor', 'buildings', true, 300, '{"building":"clg-a","zone":"salle-1"}', '{}'),
   ('s2', 'building-sensor', 'buildings', true, 300, '{"building":"clg-a","zone":"salle-2"}', '{}'),
   ('other', 'meter', 'buildings', true, 3600, '{"building":"clg-b"}', '{}')`,
);

t.test('consumption per local day: deltas, a reset and a rollover', async (t) => {
  await insertRows(pool, [
    { device: 'm1', metric: 'energy', time: '2026-01-11T22:30:00Z', value: 100 }, // before the range: opening reading
    { device: 'm1', metric: 'energy', time: '2026-01-11T23:30:00Z', value: 110 }, // 00:30 on the 12th in Paris: +10
    { device: 'm1', metric: 'energy', time: '2026-01-12T05:00:00Z', value: 130 }, // +20
    { device: 'm1', metric: 'energy', time: '2026-01-12T06:00:00Z', value: 5 }, // reset: +5, not -125
    { device: 'm1', metric: 'energy', time: '2026-01-12T23:30:00Z', value: 25 }, // the 13th in Paris: +20
    { device: 'm2', metric: 'energy', time: '2026-01-12T00:00:00Z', value: 9950 },
    { device: 'm2', metric: 'energy', time: '2026-01-12T12:00:00Z', value: 30 }, // rollover at 10000: +80
    { device: 'other', metric: 'energy', time: '2026-01-12T12:00:00Z', value: 1e6 },
    { device: 'other', metric: 'energy', time: '2026-01-12T13:00:00Z', value: 2e6 },
  ]);
  const r = await tp.get<Record<string, unknown>>(
    '/api/v1/buildings/consumption?building=clg-a&metric=energy&bucket=1d&from=2026-01-12T00:00:00%2B01:00&to=2026-01-14T00:00:00%2B01:00',
  );
  t.equal(r.status, 200);
  t.same(r.body.points, [
    { time: '2026-01-11T23:00:00.000Z', consumption: 115 },
    { time: '2026-01-12T23:00:00.000Z', consumption: 20 },
  ]);
  t.equal(r.body.unit, 'kWh');
  t.equal(r.body.resets, 1);
  t.equal(r.body.rollovers, 1);
  t.same(r.body.devices, [
    { deviceId: 'm1', channel: '', consumption: 55 },
    { deviceId: 'm2', channel: '', consumption: 80 },
  ]);
  const hourly = await tp.get<{ points: Array<{ time: string; consumption: number | null }> }>(
    '/api/v1/buildings/consumption?building=clg-a&bucket=1h&from=2026-01-12T05:00:00Z&to=2026-01-12T08:00:00Z',
  );
  t.same(hourly.body.points, [
    { time: '2026-01-12T05:00:00.000Z', consumption: 20 },
    { time: '2026-01-12T06:00:00.000Z', consumption: 5 },
    { time: '2026-01-12T07:00:00.000Z', consumption: null },
  ]);
});

t.test('comfort and CO2: occupied time from the sensor or the timetable', async (t) => {
  const rows: Row[] = [];
  // Salle 1, Monday 12 January 2026, 08:00-10:00 local, every 5 minutes; occupied 08:00-09:00.
  for (let i = 0; i < 24; i++) {
    const time = new Date(Date.parse('2026-01-12T07:00:00Z') + i * 300_000);
    const occupied = i < 12;
    const co2 = !occupied ? 2000 : i < 6 ? 800 : i < 10 ? 1200 : 1800;
    rows.push({ device: 's1', metric: 'occupancy_state', time, value: occupied ? 1 : 0 });
    rows.push({ device: 's1', metric: 'co2', time, value: co2 });
    rows.push({ device: 's1', metric: 'air_temperature', time, value: occupied ? 20 : 18 });
  }
  // Salle 2 has no occupancy sensor: 07:30 is before the timetable, 09:00 and 09:05 are in it.
  rows.push({ device: 's2', metric: 'co2', time: '2026-01-12T06:30:00Z', value: 1500 });
  rows.push({ device: 's2', metric: 'co2', time: '2026-01-12T08:00:00Z', value: 900 });
  rows.push({ device: 's2', metric: 'co2', time: '2026-01-12T08:05:00Z', value: 1100 });
  await insertRows(pool, rows);
  const r = await tp.get<{ summary: Record<string, unknown>; zones: Array<Record<string, unknown>> }>('/api/v1/buildings/comfort?building=clg-a&from=2026-01-12T00:00:00Z&to=2026-01-13T00:00:00Z');
  t.equal(r.status, 200);
  const by = Object.fromEntries(r.body.zones.map((z) => [z.zone as string, z]));
  t.match(by['salle-1'], {
    occupancySource: 'sensor',
    occupiedHours: 1,
    shareAbove1000: 50,
    shareAbove1700: 16.667,
    icone: 2.2, // 8.3 x log10(1 + 4/12 + 3 x 2/12)
    temperature: { avg: 19, min: 18, max: 20, occupiedAvg: 20 },
    co2: { max: 2000, occupiedAvg: (6 * 800 + 4 * 1200 + 2 * 1800) / 12 },
  });
  t.match(by['salle-2'], { occupancySource: 'schedule', occupiedHours: 0.167, shareAbove1000: 50, shareAbove1700: 0, icone: 1.5 });
  t.notOk(by['other'], 'zones of other buildings stay out');
  t.same(r.body.zones.map((z) => z.zone), ['salle-1', 'salle-2'], 'zones with comfort readings');
  // The building: 1 h occupied in salle 1 plus 10 min in salle 2; above 1000 ppm 30 + 5 min.
  t.match(r.body.summary, { zone: '*', occupancySource: 'mixed', occupiedHours: 1.167, shareAbove1000: 50, shareAbove1700: 14.286 });
});

t.test('bounded requests', async (t) => {
  const r = await tp.get<{ code: string }>('/api/v1/buildings/consumption?building=clg-a&bucket=1h&from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z');
  t.equal(r.status, 400);
  const c = await tp.get<{ code: string }>('/api/v1/buildings/comfort?building=clg-a');
  t.equal(c.status, 400);
});
