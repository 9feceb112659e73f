/**
 * The shipped rule pack (rules/): it loads, and each rule fires on the situation its comment in
 * `rules/*.yaml` describes and stays quiet on its near miss. One table, run through the evaluation core.
 */
import path from 'node:path';
import t from 'tap';
import type { MetricName, Observation } from '../../schemas/index.ts';
import { compileRule } from '../../services/alerting/compiled-rule.ts';
import { EvaluationCore } from '../../services/alerting/core.ts';
import { loadRuleFiles } from '../../services/alerting/rule-files.ts';
import type { DeviceInfo } from '../../services/alerting/scope.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-01-12T05:00:00Z');
const pack = loadRuleFiles(path.resolve('rules'));
const devices: Record<string, DeviceInfo> = {
  rws: { id: 'rws', kind: 'road-weather-station', domain: 'roads', periodSeconds: 360, tags: {} },
  tc: { id: 'tc', kind: 'traffic-counter', domain: 'roads', periodSeconds: 360, tags: {} },
  room: { id: 'room', kind: 'building-sensor', domain: 'buildings', periodSeconds: 300, tags: {} },
  boiler: { id: 'boiler', kind: 'boiler', domain: 'buildings', periodSeconds: 300, tags: {} },
};

type Step = [minute: number, metrics: Partial<Record<MetricName, number>>, channel?: string];
/** Runs a sequence; returns "rule@minute" for every firing. */
function run(device: string, steps: Step[], tickAt?: number): string[] {
  const core = new EvaluationCore((id) => devices[id] ?? { id }, 15 * MIN);
  core.setRules(pack.map((f) => compileRule(f.rule, 'file', f.origin)));
  const fired: string[] = [];
  for (const [m, metrics, channel] of steps) {
    const obs: Observation[] = Object.entries(metrics).map(([metric, value]) => ({ deviceId: device, metric: metric as MetricName, channel: channel ?? '', time: new Date(T0 + m * MIN), receivedAt: new Date(T0 + m * MIN), value: value!, quality: 0 }));
    for (const tr of [...core.tick(T0 + m * MIN - 1), ...core.ingest(obs, T0 + m * MIN)]) if (tr.kind === 'firing') fired.push(`${tr.rule.rule.id}@${(tr.time - T0) / MIN}`);
  }
  if (tickAt !== undefined) for (const tr of core.tick(T0 + tickAt * MIN)) if (tr.kind === 'firing') fired.push(`${tr.rule.rule.id}@${(tr.time - T0) / MIN}`);
  return fired;
}
const every = (from: number, to: number, step: number, f: (m: number) => Step[1], channel?: string): Step[] => {
  const out: Step[] = [];
  for (let m = from; m <= to; m += step) out.push([m, f(m), channel]);
  return out;
};

t.test('the pack loads with the rules the issue lists', async (t) => {
  t.same(pack.map((f) => f.rule.id).sort(), [
    'boiler-fault', 'co2-1500', 'co2-800', 'congestion', 'device-offline-buildings', 'device-offline-roads', 'frost', 'heavy-rain',
    'ice-alarm', 'ice-prealert', 'low-battery', 'low-visibility', 'overheating-occupied', 'snow', 'strong-gust', 'supply-temperature',
  ]);
});

t.test('road rules', async (t) => {
  t.same(run('rws', [[0, { surface_temperature: -0.5, dew_point: 0.5 }]]), ['frost@0'], 'frost: surface <= 0 and <= dew point');
  t.same(run('rws', [[0, { surface_temperature: -0.5, dew_point: -2 }]]), [], 'no frost when the dew point is lower');
  t.same(run('rws', [[0, { precipitation_rate: 1.2, air_temperature: 0.5 }]]), ['snow@0'], 'snow: precipitation at <= +1 °C');
  t.same(run('rws', [[0, { precipitation_rate: 1.2, air_temperature: 4 }]]), [], 'rain at 4 °C is not snow');
  t.same(run('rws', [[0, { surface_state: 9 }]]), ['snow@0'], 'NTCIP snowWarning');
  t.same(run('rws', [[0, { wind_gust: 18.5 }]]), ['strong-gust@0'], 'gust > 64 km/h');
  t.same(run('rws', [[0, { wind_gust: 17 }]]), []);
  t.same(run('rws', [[0, { visibility: 350 }]]), ['low-visibility@0']);
  t.same(run('rws', [[0, { visibility: 450 }]]), []);
  t.same(run('rws', every(0, 60, 6, () => ({ precipitation_rate: 7 }))), ['heavy-rain@60'], 'over 6 mm/h for an hour');
  t.same(run('rws', [[0, { surface_temperature: -1, surface_state: 3 }]]), [], 'a dry road at -1 °C is not icy');
  t.same(run('rws', [[0, { surface_temperature: -1, water_film: 0.2 }]]), ['ice-alarm@0'], 'water film counts as moisture');
});

t.test('congestion needs 2 periods, per lane, relative to free-flow speed', async (t) => {
  t.same(run('tc', [[0, { mean_speed: 15, occupancy: 30 }, 'lane1'], [6, { mean_speed: 14, occupancy: 32 }, 'lane1']]), ['congestion@6']);
  t.same(run('tc', [[0, { mean_speed: 15, occupancy: 30 }, 'lane1'], [6, { mean_speed: 14, occupancy: 32 }, 'lane2']]), [], 'two lanes are two series');
  t.same(run('tc', [[0, { mean_speed: 0, occupancy: 0 }, 'lane1'], [6, { mean_speed: 0, occupancy: 0 }, 'lane1']]), [], 'no traffic is not a jam');
  t.same(run('tc', [[0, { mean_speed: 30, occupancy: 30 }, 'lane1'], [6, { mean_speed: 30, occupancy: 30 }, 'lane1']]), [], '30 km/h is slow (37 % of 80), not queuing');
});

t.test('building rules', async (t) => {
  t.same(run('room', every(0, 10, 5, () => ({ co2: 900 }))), ['co2-800@10'], '800 ppm for 10 min');
  t.same(run('room', [[0, { co2: 1600 }]]), ['co2-1500@0'], 'act now at once');
  t.same(run('room', every(0, 120, 5, () => ({ air_temperature: 20.5, occupancy_state: 1 }))), ['overheating-occupied@60'], 'hourly mean over 19 °C, occupied, 30 min (mean known after 30 min of data)');
  t.same(run('room', every(0, 120, 5, () => ({ air_temperature: 20.5, occupancy_state: 0 }))), [], 'unoccupied: not this rule');
  t.same(run('boiler', [[0, { fault: 1 }]]), ['boiler-fault@0']);
  t.same(run('boiler', every(0, 15, 5, () => ({ supply_temperature: 95, boiler_state: 1 }))), ['supply-temperature@15']);
  t.same(run('boiler', every(0, 15, 5, () => ({ supply_temperature: 20, boiler_state: 0 }))), [], 'a stopped boiler runs cold');
  t.same(run('room', [[0, { battery: 12 }]]), ['low-battery@0']);
});

t.test('offline per domain: 3 periods, never sooner than `after`', async (t) => {
  t.same(run('rws', [[0, { air_temperature: 1 }]], 60), ['device-offline-roads@20'], '3 x 6 min = 18 min < 20 min');
  t.same(run('room', [[0, { co2: 500 }]], 60), ['device-offline-buildings@30']);
});
