/** Traffic KPIs against hand-computed answers (see services/timeseries/traffic.ts for definitions). */
import t from 'tap';
import type { TrafficKpiRow } from '../../services/timeseries/traffic.ts';
import { frenchHolidays } from '../../services/timeseries/holidays.ts';
import { insertRows, type Row } from '../helpers/observations.ts';
import { startTestPlatform } from '../helpers/platform.ts';

const tp = await startTestPlatform();
t.teardown(() => tp.stop());
const pool = tp.platform.pool;

await pool.query(
  `insert into devices (id, kind, domain, registered, period_seconds, road, tags) values
   ('tc-a', 'traffic-counter', 'roads', true, 360, '{"route":"RD1","pr":4,"direction":"both"}', '{"directions":"lane1:increasing,lane2:decreasing"}'),
   ('tc-y', 'traffic-counter', 'roads', true, 360, null, '{}')`,
);

// Tuesday 3 February 2026, 09:00-09:18 in Paris: three 6-minute periods on two lanes.
const lane = (channel: string, minute: number, v: Partial<Record<'c' | 'h' | 's' | 'occ', number>>): Row[] => {
  const time = new Date(Date.parse('2026-02-03T08:00:00Z') + minute * 60_000);
  const rows: Row[] = [];
  if (v.c !== undefined) rows.push({ device: 'tc-a', metric: 'vehicle_count', channel, time, value: v.c });
  if (v.h !== undefined) rows.push({ device: 'tc-a', metric: 'heavy_vehicle_count', channel, time, value: v.h });
  if (v.s !== undefined) rows.push({ device: 'tc-a', metric: 'mean_speed', channel, time, value: v.s });
  if (v.occ !== undefined) rows.push({ device: 'tc-a', metric: 'occupancy', channel, time, value: v.occ });
  return rows;
};
await insertRows(pool, [
  ...lane('lane1', 0, { c: 10, h: 2, s: 80, occ: 5 }),
  ...lane('lane2', 0, { c: 20, h: 1, s: 90, occ: 6 }),
  // No traffic: zero vehicles and no speed. Not a jam, and not a 0 km/h average.
  ...lane('lane1', 6, { c: 0, h: 0, occ: 0 }),
  // Congested period (occupancy 40 %): counts in the mean speed, not in V85.
  ...lane('lane2', 6, { c: 30, h: 3, s: 100, occ: 40 }),
  ...lane('lane1', 12, { c: 40, h: 4, s: 60, occ: 10 }),
  // Speed missing (the device sent -1, a sentinel the decoder dropped).
  ...lane('lane2', 12, { c: 10, occ: 3 }),
]);

type Kpi = TrafficKpiRow;
const period = 'from=2026-02-03T00:00:00Z&to=2026-02-04T00:00:00Z';

t.test('station KPIs', async (t) => {
  const r = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${period}&device=tc-a`);
  t.equal(r.status, 200);
  t.same(r.body.items, [
    {
      deviceId: 'tc-a',
      totalCount: 110,
      heavyCount: 10,
      heavySharePercent: 9.09,
      flowVehPerHour: 366.67, // 110 vehicles over 3 periods of 6 minutes
      meanSpeedKmh: 80, // (10x80 + 20x90 + 30x100 + 40x60) / 100
      v85Kmh: 90, // free-flowing periods 60 km/h (40 veh), 80 (10), 90 (20): 85 % of 70 reached at 90
      occupancyPercent: 10.67,
      observedHours: 0.3,
      morningPeak: { hour: 9, vehicles: 110 },
      eveningPeak: null,
    },
  ]);
});

t.test('per lane and per direction', async (t) => {
  const lanes = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${period}&device=tc-a&by=lane`);
  t.same(
    lanes.body.items.map((k) => [k.channel, k.totalCount, k.heavyCount, k.flowVehPerHour, k.meanSpeedKmh, k.v85Kmh]),
    [
      ['lane1', 50, 6, 166.67, 64, 80],
      ['lane2', 60, 4, 200, 96, 90],
    ],
  );
  const dirs = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${period}&device=tc-a&by=direction`);
  t.same(
    dirs.body.items.map((k) => [k.direction, k.totalCount, k.meanSpeedKmh]),
    [
      ['decreasing', 60, 96],
      ['increasing', 50, 64],
    ],
  );
  const all = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${period}`);
  t.same(all.body.items.map((k) => k.deviceId), ['tc-a'], 'registered traffic counters by default');
});

t.test('KPI periods are bounded', async (t) => {
  const r = await tp.get<{ code: string }>(`/api/v1/traffic/stations?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`);
  t.equal(r.status, 400);
  t.equal(r.body.code, 'VIGIE_ERR_VALIDATION');
});

t.test('French public holidays', async (t) => {
  t.same(frenchHolidays(2025), ['2025-01-01', '2025-04-21', '2025-05-01', '2025-05-08', '2025-05-29', '2025-06-09', '2025-07-14', '2025-08-15', '2025-11-01', '2025-11-11', '2025-12-25']);
  t.ok(frenchHolidays(2026).includes('2026-04-06'), 'Easter Monday 2026');
});

t.test('TMJA and TMJO of a calendar year in Europe/Paris', async (t) => {
  const rows: Row[] = [];
  for (let d = 7; d <= 16; d++) {
    const day = `2025-07-${String(d).padStart(2, '0')}`;
    const weekendOrHoliday = d === 12 || d === 13 || d === 14;
    rows.push({ device: 'tc-y', metric: 'vehicle_count', channel: 'lane1', time: `${day}T10:00:00Z`, value: weekendOrHoliday ? 500 : 1000 });
  }
  rows.push({ device: 'tc-y', metric: 'vehicle_count', channel: 'lane2', time: '2025-07-08T10:00:00Z', value: 1000 });
  // 00:30 on 1 January 2025 in Paris (a holiday) counts in 2025; 00:30 on 1 January 2026 does not.
  rows.push({ device: 'tc-y', metric: 'vehicle_count', channel: 'lane1', time: '2024-12-31T23:30:00Z', value: 100 });
  rows.push({ device: 'tc-y', metric: 'vehicle_count', channel: 'lane1', time: '2025-12-31T23:30:00Z', value: 7777 });
  await insertRows(pool, rows);
  const r = await tp.get<{ items: unknown[] }>('/api/v1/traffic/tmja?year=2025&device=tc-y');
  t.equal(r.status, 200);
  t.same(r.body.items, [
    { deviceId: 'tc-y', year: 2025, totalCount: 9600, daysInYear: 365, daysWithData: 11, tmja: 26.3, tmjo: 1142.86, workingDaysWithData: 7 },
  ]);
});
