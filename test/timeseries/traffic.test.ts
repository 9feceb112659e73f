/**
 * Traffic KPIs against hand computations on fixed data (definitions: services/timeseries/traffic.ts,
 * services/timeseries/v85.ts, services/timeseries/tmja.ts). Vehicle records and speed classes go
 * through the real MQTT ingest in the native format, so their store keys are exercised too.
 */
import t from 'tap';
import type { TrafficKpiRow } from '../../services/timeseries/traffic.ts';
import type { TmjaRow } from '../../services/timeseries/tmja.ts';
import { frenchHolidays } from '../../schemas/french-holidays.ts';
import { insertRows, type Row } from '../helpers/observations.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const tp = await startTestPlatform();
t.teardown(() => tp.stop());
const pool = tp.platform.pool;

await pool.query(
  `insert into devices (id, kind, domain, registered, period_seconds, road, tags) values
   ('tc-a', 'traffic-counter', 'roads', true, 360, '{"route":"RD1","pr":4,"direction":"both"}', '{"directions":"lane1:increasing,lane2:decreasing"}'),
   ('tc-v', 'traffic-counter', 'roads', true, 360, null, '{}'),
   ('tc-c', 'traffic-counter', 'roads', true, 360, null, '{}'),
   ('tc-o', 'traffic-counter', 'roads', true, 360, null, '{}'), ('tc-w', 'traffic-counter', 'roads', true, 360, null, '{}'),
   ('tc-y', 'traffic-counter', 'roads', true, 3600, null, '{}'),
   ('tc-s', 'traffic-counter', 'roads', true, 3600, null, '{}'), ('tc-d', 'traffic-counter', 'roads', true, 3600, null, '{}'),
   ('tc-e', 'traffic-counter', 'roads', true, 3600, null, '{}')`,
);

// tc-a reports only period values (count, mean speed, occupancy). Tuesday 3 February 2026,
// 09:00-09:18 in Paris: three 6-minute periods on two lanes.
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
  // Congested period (occupancy 40 %): counts in the mean speed, not in the V85 estimate.
  ...lane('lane2', 6, { c: 30, h: 3, s: 100, occ: 40 }),
  ...lane('lane1', 12, { c: 40, h: 4, s: 60, occ: 10 }),
  // Speed missing (the device sent -1, a sentinel the decoder dropped).
  ...lane('lane2', 12, { c: 10, occ: 3 }),
]);

const pub = await tp.publisher();
const send = (device: string, message: object) => pub.publishAsync(`${tp.prefix}vigie/${device}/telemetry`, JSON.stringify(message), { qos: 1 });

// tc-v: individual vehicle records, 3 February 2026 from 10:00:00Z. Lane 1 and lane 2 each have
// a vehicle at exactly 10:00:00.000Z: different channels, so different keys.
const T = Date.parse('2026-02-03T10:00:00Z');
const at = (seconds: number) => new Date(T + seconds * 1000).toISOString();
const free = [72, 85, 91, 78, 88, 95, 80, 83, 99, 87].map((speed, i) => ({ t: at(10 * i), speed, headway: i === 0 ? 9 : 10, heavy: false }));
await send('tc-v', {
  vehicles: {
    lane1: [
      ...free,
      { t: at(100), speed: 70, headway: 10, heavy: true }, // heavy vehicle (PL): not in V85
      { t: at(101.2), speed: 120, headway: 1.2, heavy: false }, // following 1.2 s behind: not free
      { t: at(115), speed: 130, heavy: false }, // no headway: cannot be shown free
    ],
    lane2: [{ t: at(0), speed: 101, headway: 9, heavy: false }],
  },
});

// tc-w: 20 free light vehicles at 80, 79, ..., 61 km/h, 6 s apart (0.85 x 20 is exactly 17).
await send('tc-w', { vehicles: { lane1: Array.from({ length: 20 }, (_, i) => ({ t: at(6 * i), speed: 80 - i, headway: 6, heavy: false })) } });

// tc-c: light-vehicle speed classes, classes [0,50) [50,70) [70,90) [90,110) [110,130) [130,+inf).
const bounds = [0, 50, 70, 90, 110, 130];
const period = (minute: number, counts: number[], occupancy?: number) =>
  send('tc-c', {
    ts: new Date(Date.parse('2026-02-03T09:00:00Z') + minute * 60_000).toISOString(),
    speedClasses: { lane1: { bounds, counts } },
    ...(occupancy === undefined ? {} : { channels: { lane1: { occupancy } } }),
  });
await period(0, [0, 2, 10, 20, 6, 2], 8); // A: free (occupancy 8 %), 40 VL
await period(6, [1, 3, 12, 15, 8, 1], 12); // B: free (12 %), 40 VL
await period(12, [5, 20, 10, 0, 0, 0], 30); // C: congested (30 %), 35 VL left out
await period(18, [0, 0, 5, 5, 0, 0]); // D: no occupancy, cannot be shown free, 10 VL left out
// tc-o: the 85th percentile lands in the open top class.
await send('tc-o', { ts: '2026-02-03T09:00:00Z', speedClasses: { lane1: { bounds: [0, 90, 130], counts: [5, 5, 30] } }, channels: { lane1: { occupancy: 5 } } });

type Kpi = TrafficKpiRow;
const window = 'from=2026-02-03T00:00:00Z&to=2026-02-04T00:00:00Z';
const stored = await waitFor(async () => {
  const { rows } = await pool.query(`select count(*)::int as n from observations where device_id in ('tc-v', 'tc-c', 'tc-o')`);
  // tc-v: 13 + 1 speeds, 13 headways (one vehicle has none), 14 classes; tc-c: 24 class counts + 3 occupancies; tc-o: 3 + 1.
  return rows[0].n === 14 + 13 + 14 + 27 + 4 ? rows[0].n : undefined;
}, 15_000, 'vehicle records and speed classes stored');
t.equal(stored, 72);

t.test('mean-speed-only station: flagged estimate, never a V85', async (t) => {
  const r = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${window}&device=tc-a`);
  t.equal(r.status, 200);
  t.same(r.body.items, [
    {
      deviceId: 'tc-a',
      totalCount: 110,
      heavyCount: 10,
      heavySharePercent: 9.09,
      flowVehPerHour: 366.67, // 110 vehicles over 3 periods of 6 minutes
      meanSpeedKmh: 80, // (10x80 + 20x90 + 30x100 + 40x60) / 100
      v85Kmh: null,
      v85: null,
      // Free-flowing periods (occupancy known and < 15 %): 60 km/h (40 veh), 80 (10), 90 (20),
      // 70 vehicles; 85 % of 70 = 59.5 is first reached at 90 km/h (cumulative 40, 50, 70).
      v85Estimate: { kmh: 90, flag: 'mean-speeds-only', periods: 3, vehicles: 70 },
      occupancyPercent: 10.67,
      observedHours: 0.3,
      morningPeak: { hour: 9, vehicles: 110 },
      eveningPeak: null,
    },
  ]);
});

t.test('per lane and per direction', async (t) => {
  const lanes = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${window}&device=tc-a&by=lane`);
  t.same(
    lanes.body.items.map((k) => [k.channel, k.totalCount, k.heavyCount, k.flowVehPerHour, k.meanSpeedKmh, k.v85Kmh, k.v85Estimate?.kmh]),
    [
      ['lane1', 50, 6, 166.67, 64, null, 80], // 60 (40), 80 (10): 42.5 of 50 reached at 80
      ['lane2', 60, 4, 200, 96, null, 90], // only 90 (20) is free-flowing
    ],
  );
  const dirs = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${window}&device=tc-a&by=direction`);
  t.same(
    dirs.body.items.map((k) => [k.direction, k.totalCount, k.meanSpeedKmh]),
    [
      ['decreasing', 60, 96],
      ['increasing', 50, 64],
    ],
  );
});

t.test('V85 from individual vehicle records', async (t) => {
  const r = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${window}&device=tc-v&by=lane`);
  // Lane 1, free light vehicles (headway >= 5 s, not heavy), sorted: 72 78 80 83 85 87 88 91 95 99.
  // V85 = the smallest speed with at least 85 % of them at or below it: rank ceil(0.85 x 10) = 9,
  // 95 km/h. Left out: the heavy vehicle, the one following at 1.2 s, the one without headway.
  // Lane 2: one free vehicle, 101 km/h.
  t.same(
    r.body.items.map((k) => [k.channel, k.v85Kmh, k.v85, k.v85Estimate]),
    [
      ['lane1', 95, { source: 'vehicles', lightVehicles: 10, excludedVehicles: 3 }, null],
      ['lane2', 101, { source: 'vehicles', lightVehicles: 1, excludedVehicles: 0 }, null],
    ],
  );
  // Station: 11 free vehicles, rank ceil(0.85 x 11) = ceil(9.35) = 10, 72 ... 95 99 101: 99 km/h.
  const s = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${window}&device=tc-v`);
  t.same(s.body.items.map((k) => [k.deviceId, k.v85Kmh, k.v85]), [['tc-v', 99, { source: 'vehicles', lightVehicles: 11, excludedVehicles: 3 }]]);
  // tc-w: 20 speeds 61..80, 85 % of 20 = 17 exactly: the 17th smallest, 77 (not the 18th, 78:
  // the boundary case where a rank computed in floating point could round up).
  const w = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${window}&device=tc-w`);
  t.same(w.body.items.map((k) => [k.v85Kmh, k.v85?.lightVehicles]), [[77, 20]]);
});

t.test('V85 from speed classes, interpolated inside its class', async (t) => {
  const r = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${window}&device=tc-c,tc-o`);
  // tc-c, free periods A + B per class: 1, 5, 22, 35, 14, 3 = 80 VL; 85 % of 80 = 68.
  // Cumulative 1, 6, 28, 63, 77: the 68th vehicle is in [110, 130) with 63 below it and 14 in it:
  // V85 = 110 + (68 - 63) / 14 x 20 = 117.142857... = 117.14 km/h. Left out: C (35) and D (10).
  // tc-o: 5, 5, 30 = 40 VL, 85 % = 34 > 10: in the open top class [130, +inf): V85 >= 130 only.
  t.same(
    r.body.items.map((k) => [k.deviceId, k.v85Kmh, k.v85, k.v85Estimate]),
    [
      ['tc-c', 117.14, { source: 'speedClasses', lightVehicles: 80, excludedVehicles: 45 }, null],
      ['tc-o', null, { source: 'speedClasses', lightVehicles: 40, excludedVehicles: 0, atLeastKmh: 130 }, null],
    ],
  );
  const all = await tp.get<{ items: Kpi[] }>(`/api/v1/traffic/stations?${window}`);
  t.same(all.body.items.map((k) => k.deviceId), ['tc-a', 'tc-c', 'tc-o', 'tc-v', 'tc-w'], 'registered traffic counters with data by default');
});

t.test('KPI periods are bounded, and need a zone', async (t) => {
  const r = await tp.get<{ code: string }>(`/api/v1/traffic/stations?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`);
  t.equal(r.status, 400);
  t.equal(r.body.code, 'VIGIE_ERR_VALIDATION');
  const zoneless = await tp.get<{ code: string; message: string }>(`/api/v1/traffic/stations?from=2026-10-25T02:30:00&to=2026-10-26T00:00:00Z`);
  t.equal(zoneless.status, 400, 'a zone-less time is ambiguous at the autumn change: refused');
  t.match(zoneless.body.message, /zone/);
});

t.test('French public holidays', async (t) => {
  t.same(frenchHolidays(2025), ['2025-01-01', '2025-04-21', '2025-05-01', '2025-05-08', '2025-05-29', '2025-06-09', '2025-07-14', '2025-08-15', '2025-11-01', '2025-11-11', '2025-12-25']);
  t.ok(frenchHolidays(2026).includes('2026-04-06'), 'Easter Monday 2026');
});

t.test('TMJA and TMJO: means over complete Europe/Paris days, partial year flagged', async (t) => {
  const holidays = new Set(frenchHolidays(2025));
  const localDate = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' });
  const rows: Row[] = [];
  // tc-y, hourly periods, two lanes, commissioned on Tuesday 1 July 2025 at 10:00 Paris (08:00Z).
  // Every hour, each lane counts 40 vehicles on working days and 20 on weekends and holidays.
  // Gaps: no data at all on 24 December; lane2 misses 10:00-13:00 Paris on Wednesday 20 August.
  for (let h = Date.parse('2025-07-01T08:00:00Z'); h < Date.parse('2025-12-31T23:00:00Z'); h += 3600_000) {
    const time = new Date(h);
    const day = localDate.format(time);
    if (day === '2025-12-24') continue;
    const dow = new Date(`${day}T12:00:00Z`).getUTCDay();
    const perLane = dow === 0 || dow === 6 || holidays.has(day) ? 20 : 40;
    rows.push({ device: 'tc-y', metric: 'vehicle_count', channel: 'lane1', time, value: perLane });
    const missing = day === '2025-08-20' && h >= Date.parse('2025-08-20T08:00:00Z') && h < Date.parse('2025-08-20T11:00:00Z');
    if (!missing) rows.push({ device: 'tc-y', metric: 'vehicle_count', channel: 'lane2', time, value: perLane });
  }
  // tc-s: one lane, complete only from Monday 6 to Wednesday 15 January 2025 (10 days).
  for (let h = Date.parse('2025-01-05T23:00:00Z'); h < Date.parse('2025-01-15T23:00:00Z'); h += 3600_000) {
    rows.push({ device: 'tc-s', metric: 'vehicle_count', channel: 'lane1', time: new Date(h), value: 10 });
  }
  // DST days. tc-d: Sunday 30 March 2025 has 23 hours in Paris, and 23 hourly periods: complete.
  // tc-e: Sunday 26 October has 25 hours, only 24 periods (the repeated 02:00 hour missing):
  // incomplete; Monday 27 October, 24 periods of 24 hours: complete.
  const hours = (device: string, from: string, to: string, skip: string[] = []) => {
    for (let h = Date.parse(from); h < Date.parse(to); h += 3600_000) {
      if (!skip.includes(new Date(h).toISOString())) rows.push({ device, metric: 'vehicle_count', channel: 'lane1', time: new Date(h), value: 1 });
    }
  };
  hours('tc-d', '2025-03-29T23:00:00Z', '2025-03-30T22:00:00Z');
  hours('tc-e', '2025-10-25T22:00:00Z', '2025-10-26T23:00:00Z', ['2025-10-26T01:00:00.000Z']);
  hours('tc-e', '2025-10-26T23:00:00Z', '2025-10-27T23:00:00Z');
  await insertRows(pool, rows);

  const dst = await tp.get<{ items: TmjaRow[] }>('/api/v1/traffic/tmja?year=2025&device=tc-d,tc-e');
  t.same(
    dst.body.items.map((d) => [d.deviceId, d.daysWithData, d.completeDays, d.completeWorkingDays, d.totalCount]),
    [
      ['tc-d', 1, 1, 0, 23],
      ['tc-e', 2, 1, 1, 48],
    ],
    '23-hour day complete with 23 periods, 25-hour day incomplete with 24',
  );

  const r = await tp.get<{ items: TmjaRow[] }>('/api/v1/traffic/tmja?year=2025&device=tc-y,tc-s');
  t.equal(r.status, 200);
  // tc-y by hand. Complete days: 2 July to 31 December (183 days) minus 20 August (lane2 short)
  // and 24 December (no data) = 181, of which 125 working days (July 21, August 19, September
  // 22, October 23, November 19, December 21) and 56 weekend or holiday days (14 July, 15 August,
  // 1 and 11 November, 25 December among them). 1 July is incomplete (from 10:00 only).
  // Daily totals: working day 24 h x 2 x 40 = 1920; weekend or holiday 24 x 2 x 20 = 960, except
  // Sunday 26 October (DST end, 25 hours) 25 x 2 x 20 = 1000: its 25 hourly periods make it complete.
  // TMJA = (125 x 1920 + 55 x 960 + 1000) / 181 = 293800 / 181 = 1623.20 (a yearly total / 365
  // would give 812.93, half the traffic). TMJO = 1920 (all complete working days).
  // Counted over the year: 293800 + 1 July (14 h x 80 = 1120) + 20 August (1920 - 3 x 40 = 1800) = 296720.
  // Working days in 2025: 261 weekdays (52 weeks + Wednesday 1 January) - 10 weekday holidays = 251.
  t.same(r.body.items, [
    {
      deviceId: 'tc-s',
      year: 2025,
      totalCount: 2400,
      daysInYear: 365,
      daysWithData: 10,
      completeDays: 10,
      workingDaysInYear: 251,
      completeWorkingDays: 8, // 6-10 and 13-15 January
      coverage: 0.0274, // 10 / 365
      lanes: 1,
      status: 'insufficient', // fewer than 90 complete days: refused
      tmja: null,
      tmjo: null,
    },
    {
      deviceId: 'tc-y',
      year: 2025,
      totalCount: 296720,
      daysInYear: 365,
      daysWithData: 183,
      completeDays: 181,
      workingDaysInYear: 251,
      completeWorkingDays: 125,
      coverage: 0.4959, // 181 / 365
      lanes: 2,
      status: 'partial',
      tmja: 1623.2,
      tmjo: 1920,
    },
  ]);
});
