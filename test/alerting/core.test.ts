/**
 * The evaluation core on its own: observed time in, transitions out, no I/O. These pin the
 * time semantics (hysteresis, `for`, late and backfilled data, missing data, consecutive
 * periods, staleness) that the scenario tests then exercise through the real pipeline.
 */
import t from 'tap';
import { ruleSchema, type RuleInput } from '../../schemas/alerting.ts';
import type { MetricName, Observation } from '../../schemas/index.ts';
import { compileRule } from '../../services/alerting/compiled-rule.ts';
import { EvaluationCore, type Transition } from '../../services/alerting/core.ts';
import type { DeviceInfo } from '../../services/alerting/scope.ts';

const T0 = Date.parse('2026-01-10T00:00:00Z');
const MIN = 60_000;
const devices: Record<string, DeviceInfo> = {
  rws1: { id: 'rws1', kind: 'road-weather-station', domain: 'roads', periodSeconds: 360, tags: {} },
  tc1: { id: 'tc1', kind: 'traffic-counter', domain: 'roads', periodSeconds: 360, tags: { freeFlowSpeed: '90' } },
  room: { id: 'room', kind: 'building-sensor', domain: 'buildings', periodSeconds: 300, tags: {} },
};

function core(...rules: RuleInput[]): EvaluationCore {
  const c = new EvaluationCore((id) => devices[id] ?? { id }, 15 * MIN);
  c.setRules(rules.map((r) => compileRule(ruleSchema.parse(r), 'file', 'test.yaml')));
  return c;
}
function obs(deviceId: string, at: number, metrics: Partial<Record<MetricName, number>>, channel = ''): Observation[] {
  return Object.entries(metrics).map(([metric, value]) => ({ deviceId, metric: metric as MetricName, channel, time: new Date(at), receivedAt: new Date(at), value: value!, quality: 0 }));
}
const kinds = (trs: Transition[]) => trs.map((x) => `${x.kind}@${(x.time - T0) / MIN}`);

t.test('threshold with hysteresis: hovering at the threshold fires once and does not flap', async (t) => {
  const c = core({ id: 'co2', name: 'CO2', severity: 'warning', condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1500, clear: 1300 } });
  const values = [1450, 1510, 1490, 1505, 1480, 1520, 1350, 1499, 1290, 1310, 1490];
  const out: Transition[] = [];
  values.forEach((v, i) => out.push(...c.ingest(obs('room', T0 + i * 5 * MIN, { co2: v }), T0 + i * 5 * MIN)));
  t.same(kinds(out), ['firing@5', 'resolved@40'], 'fires at 1510, clears only under 1300');
});

t.test('`for`: pending, then firing when the duration elapsed in observed time; cancelled if it clears first', async (t) => {
  const c = core({ id: 'vis', name: 'Visibility', severity: 'warning', for: '10m', condition: { type: 'threshold', metric: 'visibility', op: 'below', value: 400, clear: 500 } });
  const out: Transition[] = [];
  for (const [m, v] of [[0, 300], [6, 450], [12, 350]] as const) out.push(...c.ingest(obs('rws1', T0 + m * MIN, { visibility: v }), T0 + m * MIN));
  t.same(kinds(out), ['pending@0', 'firing@10'], 'fires at since + for, not at the observation that revealed it');
  const c2 = core({ id: 'vis', name: 'Visibility', severity: 'warning', for: '10m', condition: { type: 'threshold', metric: 'visibility', op: 'below', value: 400, clear: 500 } });
  const out2 = [...c2.ingest(obs('rws1', T0, { visibility: 300 }), T0), ...c2.ingest(obs('rws1', T0 + 6 * MIN, { visibility: 900 }), T0 + 6 * MIN)];
  t.same(kinds(out2), ['pending@0', 'cancelled@6']);
});

t.test('the timer fires a pending `for` on time, but not when the inputs went stale', async (t) => {
  const rule: RuleInput = { id: 'vis', name: 'Visibility', severity: 'warning', for: '10m', condition: { type: 'threshold', metric: 'visibility', op: 'below', value: 400 } };
  const c = core(rule);
  c.ingest(obs('rws1', T0, { visibility: 300 }), T0);
  c.ingest(obs('rws1', T0 + 6 * MIN, { visibility: 310 }), T0 + 6 * MIN);
  t.same(kinds(c.tick(T0 + 9 * MIN)), [], 'not yet');
  t.same(kinds(c.tick(T0 + 10 * MIN)), ['firing@10']);
  t.same(kinds(c.tick(T0 + 11 * MIN)), [], 'fires once');
  const stale = core(rule);
  stale.ingest(obs('rws1', T0, { visibility: 300 }), T0);
  // Last reading at T0; 2 periods (12 min) later it is stale: a silent station is not foggy.
  t.same(kinds(stale.tick(T0 + 13 * MIN)), []);
});

t.test('late and backfilled observations do not move the live state', async (t) => {
  const c = core({ id: 'gust', name: 'Gust', severity: 'warning', condition: { type: 'threshold', metric: 'wind_gust', op: 'above', value: 17.8, clear: 15 } });
  t.same(kinds(c.ingest(obs('rws1', T0 + 12 * MIN, { wind_gust: 5 }), T0 + 12 * MIN)), []);
  t.same(kinds(c.ingest(obs('rws1', T0 + 6 * MIN, { wind_gust: 25 }), T0 + 13 * MIN)), [], 'an out-of-order point older than the last evaluation is not evaluated');
  t.equal(c.stats.late, 1);
  t.same(kinds(c.ingest(obs('rws1', T0 - 3 * 60 * MIN, { wind_gust: 30 }), T0 + 14 * MIN)), [], 'a 3-hour-old backfill raises nothing');
  t.equal(c.stats.historical, 1);
  t.same(kinds(c.ingest(obs('rws1', T0 + 18 * MIN, { wind_gust: 20 }), T0 + 18 * MIN)), ['firing@18'], 'current data still fires');
});

t.test('missing data: offline when silent past the device delay, recovered when heard again', async (t) => {
  const c = core({ id: 'offline', name: 'Offline', severity: 'warning', scope: { domain: 'roads' }, condition: { type: 'missing', after: '10m', periods: 3 } });
  c.ingest(obs('rws1', T0, { air_temperature: 2 }), T0);
  // 3 periods of 6 min = 18 min > 10 min.
  t.same(kinds(c.tick(T0 + 17 * MIN)), []);
  t.same(kinds(c.tick(T0 + 18 * MIN)), ['firing@18'], 'fires at last seen + 3 periods, not late');
  t.same(kinds(c.tick(T0 + 30 * MIN)), [], 'once');
  t.same(kinds(c.ingest(obs('rws1', T0 + 40 * MIN, { air_temperature: 2 }), T0 + 40 * MIN)), ['resolved@40']);
  t.same(kinds(c.tick(T0 + 41 * MIN)), []);
  t.same(kinds(c.tick(T0 + 100 * MIN)), ['firing@58'], 'silent again: fires with the time it went silent + delay');
});

t.test('missing data of one metric while the device keeps reporting others', async (t) => {
  const c = core({ id: 'no-co2', name: 'CO2 sensor silent', severity: 'info', condition: { type: 'missing', metric: 'co2', after: '30m' } });
  c.ingest(obs('room', T0, { co2: 500, air_temperature: 20 }), T0);
  for (let m = 5; m <= 40; m += 5) c.ingest(obs('room', T0 + m * MIN, { air_temperature: 20 }), T0 + m * MIN);
  t.same(kinds(c.tick(T0 + 40 * MIN)), ['firing@30'], 'the device is alive, its CO2 channel is not');
  t.same(kinds(c.ingest(obs('room', T0 + 45 * MIN, { co2: 480 }), T0 + 45 * MIN)), ['resolved@45']);
});

t.test('consecutive periods: congestion only after 2 periods, counted once per observed time', async (t) => {
  const c = core({
    id: 'cong',
    name: 'Congestion',
    severity: 'warning',
    scope: { kinds: ['traffic-counter'] },
    condition: {
      type: 'consecutive',
      periods: 2,
      condition: { type: 'all', conditions: [{ type: 'threshold', metric: 'mean_speed', op: 'below', value: { tag: 'freeFlowSpeed', default: 80, factor: 0.25 } }, { type: 'threshold', metric: 'occupancy', op: 'above', value: 15 }] },
    },
  });
  const out: Transition[] = [];
  const period = (m: number, speed: number, occ: number) => {
    // Speed and occupancy in two messages with the same observed time.
    out.push(...c.ingest(obs('tc1', T0 + m * MIN, { mean_speed: speed }, 'lane1'), T0 + m * MIN));
    out.push(...c.ingest(obs('tc1', T0 + m * MIN, { occupancy: occ }, 'lane1'), T0 + m * MIN));
  };
  period(0, 15, 30); // 15 < 22.5 (25 % of 90) with 30 % occupancy
  period(6, 80, 8); // free flow
  period(12, 15, 30);
  period(18, 12, 35);
  period(24, 0, 0); // zero flow, speed 0: no traffic, not a jam
  t.same(kinds(out), ['firing@18', 'resolved@24']);
  t.equal(out[0]!.channel, 'lane1');
});

t.test('composite uses each metric\'s latest value within the staleness bound', async (t) => {
  const ice: RuleInput = {
    id: 'ice',
    name: 'Ice',
    severity: 'critical',
    condition: {
      type: 'all',
      conditions: [
        { type: 'compare', metric: 'surface_temperature', op: '<=', other: 'freezing_point', otherDefault: 0, clearOffset: 0.5 },
        { type: 'threshold', metric: 'surface_state', op: 'in', values: [4, 5, 6, 7, 8] },
      ],
    },
  };
  const c = core(ice);
  t.same(kinds(c.ingest(obs('rws1', T0, { surface_state: 5 }), T0)), [], 'no temperature yet: unknown');
  t.same(kinds(c.ingest(obs('rws1', T0 + 6 * MIN, { surface_temperature: -0.5 }), T0 + 6 * MIN)), ['firing@6'], 'wet from an earlier message, 0 °C default freezing point');
  t.same(kinds(c.ingest(obs('rws1', T0 + 12 * MIN, { surface_temperature: 0.3 }), T0 + 12 * MIN)), [], 'hysteresis: clears only above fp + 0.5');
  t.same(kinds(c.ingest(obs('rws1', T0 + 18 * MIN, { surface_temperature: -1, freezing_point: -6 }), T0 + 18 * MIN)), ['resolved@18'], 'salted: the freezing point dropped');
  const c2 = core(ice);
  c2.ingest(obs('rws1', T0, { surface_state: 5 }), T0);
  t.same(kinds(c2.ingest(obs('rws1', T0 + 20 * MIN, { surface_temperature: -2 }), T0 + 20 * MIN)), [], 'a surface state 20 min old (> 2 periods) is stale');
});

t.test('rate of change over a window', async (t) => {
  const c = core({ id: 'fall', name: 'Falling', severity: 'info', condition: { type: 'rate', metric: 'surface_temperature', window: '1h', below: -1 } });
  const out: Transition[] = [];
  [3, 2.9, 2.8, 2.6, 2.3, 2.0, 1.7, 1.4, 1.1, 0.8, 0.5].forEach((v, i) => out.push(...c.ingest(obs('rws1', T0 + i * 6 * MIN, { surface_temperature: v }), T0 + i * 6 * MIN)));
  // Unknown until half a window of data (30 min); at 30 min: (2.0 - 3) / 0.5 h = -2 °C/h.
  t.same(kinds(out), ['firing@30']);
});

t.test('rate hysteresis: a trend that slows does not flap, a rising one clears', async (t) => {
  const c = core({ id: 'fall', name: 'Falling', severity: 'info', condition: { type: 'rate', metric: 'surface_temperature', window: '1h', below: -1, clear: 0 } });
  const out: Transition[] = [];
  // Falls 1.5 °C/h, slows to about -0.5 °C/h (still falling: holds), then rises (clears).
  const values = [3, 2.85, 2.7, 2.55, 2.4, 2.25, 2.1, 2.05, 2.0, 1.95, 1.9, 1.85, 1.8, 1.75, 1.8, 2.0, 2.3, 2.6, 2.9, 3.2, 3.5];
  values.forEach((v, i) => out.push(...c.ingest(obs('rws1', T0 + i * 6 * MIN, { surface_temperature: v }), T0 + i * 6 * MIN)));
  t.same(kinds(out).map((k) => k.split('@')[0]), ['firing', 'resolved'], 'one episode');
  t.ok(out[1]!.time > T0 + 14 * 6 * MIN, 'clears only once the surface warms');
});
