/**
 * The generated series are physically plausible and reproducible: three days of the demo fleet
 * (a Friday to a Sunday in January, every device in the native format) checked reading by
 * reading. Dew point never above air temperature, no ice on a dry road, a freezing point only on
 * a wet one, counters that only move forward except at the resets the faults declared, speed
 * classes from which a V85 is computed, traffic lower on Sunday, CO2 at outdoor level in an
 * empty school. Same seed, same bytes; another seed, other values.
 */
import path from 'node:path';
import t from 'tap';
import { SURFACE } from '../simulators/fleet/models/road-weather.ts';
import { FleetGenerator, type SimMessage } from '../simulators/fleet/generator.ts';
import { resolveFaults } from '../simulators/fleet/faults.ts';
import { loadFleet } from '../simulators/fleet/run.ts';
import { emptyEnvironment } from '../simulators/fleet/environment.ts';

const demo = loadFleet(path.resolve('infra/demo/devices.yaml'));
// Every device speaks the native format here: the test reads the models, not the encoders.
const devices = demo.filter((d) => !d.tags.format || d.tags.format === 'native').map((d) => ({ ...d, tags: { ...d.tags, format: 'native' } }));
const START = Date.parse('2026-01-16T00:00:00+01:00'); // a Friday
const END = START + 3 * 86_400_000;
const env = emptyEnvironment();
// A clear, moist evening with a shower on Friday: wet roads into a cold night.
env.weather.push({ from: START + 17 * 3_600_000, to: START + 18 * 3_600_000, precipitation: 1, cloud: 1 }, { from: START + 18 * 3_600_000, to: START + 32 * 3_600_000, cloud: 0, wind: 1, airOffset: -3, dewDepression: 1 });
// Preventive salting of one station after the shower.
env.salting.push({ at: START + 20 * 3_600_000, grams: 15, devices: ['rws-rd910-pr42'] });
const faults = resolveFaults([{ type: 'counter-reset', devices: ['clg-jmoulin-meter'], metric: 'energy', from: 30 * 3_600_000 }], START);

function generate(seed: number): { messages: SimMessage[]; gen: FleetGenerator } {
  const gen = new FleetGenerator(devices, { seed, start: START, env: structuredClone(env), faults });
  return { messages: gen.advance(END), gen };
}

const { messages, gen } = generate(7);
type Native = { ts: string; metrics?: Record<string, number>; channels?: Record<string, Record<string, number>>; speedClasses?: Record<string, { bounds: number[]; counts: number[] }> };
const readings = messages.map((m) => ({ device: m.device, body: JSON.parse(m.payload.toString()) as Native }));
const kind = new Map(devices.map((d) => [d.id, d.kind]));
const of = (k: string) => readings.filter((r) => kind.get(r.device) === k);

t.test('same seed, same messages; another seed, other values', async (t) => {
  const again = generate(7).messages;
  t.equal(again.length, messages.length);
  t.ok(again.every((m, i) => m.topic === messages[i]!.topic && m.at === messages[i]!.at && m.payload.equals(messages[i]!.payload)), 'byte for byte');
  const other = generate(8).messages;
  t.notOk(other.every((m, i) => messages[i] && m.payload.equals(messages[i]!.payload)), 'seed 8 differs');
});

t.test('road weather: dew point <= air, no ice on a dry road, freezing point only when wet', async (t) => {
  const rws = of('road-weather-station');
  t.ok(rws.length > 1500, `${rws.length} readings`);
  let iced = 0;
  for (const { device, body } of rws) {
    const m = body.metrics!;
    if (m.dew_point! > m.air_temperature!) t.fail(`${device} ${body.ts}: dew point ${m.dew_point} > air ${m.air_temperature}`);
    if ((m.surface_state === SURFACE.iceWarning || m.surface_state === SURFACE.iceWatch) && !(m.water_film! > 0)) t.fail(`${device} ${body.ts}: ice state on a dry road`);
    if (m.freezing_point !== undefined && !(m.water_film! > 0)) t.fail(`${device} ${body.ts}: freezing point on a dry road`);
    if (m.relative_humidity! > 100 || m.relative_humidity! < 0) t.fail(`${device}: RH ${m.relative_humidity}`);
    if (m.surface_state === SURFACE.iceWarning) iced++;
  }
  t.ok(iced > 0, `the wet cold night ices some road (${iced} readings)`);
  // Salt dissolved in the film lowers its freezing point; the unsalted station stays at 0 °C.
  const window = (id: string) => rws.filter((r) => r.device === id && Date.parse(r.body.ts) > START + 20.2 * 3_600_000 && Date.parse(r.body.ts) < START + 24 * 3_600_000 && r.body.metrics!.freezing_point !== undefined);
  const salted = window('rws-rd910-pr42');
  t.ok(salted.length > 10 && salted.every((r) => r.body.metrics!.freezing_point! <= -0.5), `15 g/m² in about 1 mm of water (1.5 %): the film freezes at ${salted[0]?.body.metrics!.freezing_point} °C`);
  t.ok(salted.every((r) => r.body.metrics!.surface_state !== SURFACE.iceWarning || r.body.metrics!.surface_temperature! <= r.body.metrics!.freezing_point!), 'ice only at or below the salted freezing point');
  t.ok(window('rws-rd951-pr3').every((r) => r.body.metrics!.freezing_point === 0), 'no salt, water freezes at 0 °C');
  // The clear night cools the surface below the air.
  const night = rws.filter((r) => Date.parse(r.body.ts) > START + 26 * 3_600_000 && Date.parse(r.body.ts) < START + 30 * 3_600_000);
  const gap = night.reduce((s, r) => s + r.body.metrics!.air_temperature! - r.body.metrics!.surface_temperature!, 0) / night.length;
  t.ok(gap > 0.5, `surface ${gap.toFixed(2)} °C below the air on the clear night`);
});

t.test('counters only move forward, except at declared resets', async (t) => {
  t.same(gen.resets.map((r) => [r.device, r.metric]), [['clg-jmoulin-meter', 'energy']], 'the fault declared one reset');
  const last = new Map<string, number>();
  let resetsSeen = 0;
  for (const { device, body } of of('meter')) {
    for (const metric of ['energy', 'water_volume']) {
      const k = `${device}/${metric}`;
      const v = body.metrics![metric]!;
      const prev = last.get(k);
      if (prev !== undefined && v < prev) {
        const declared = gen.resets.some((r) => r.device === device && r.metric === metric && Math.abs(r.at - Date.parse(body.ts)) < 1000);
        if (declared) resetsSeen++;
        else t.fail(`${k} went back from ${prev} to ${v} at ${body.ts}`);
      }
      last.set(k, v);
    }
  }
  t.equal(resetsSeen, 1, 'the declared reset is the only step back');
});

t.test('traffic: speed classes give a V85, Sunday is quieter, speed falls with flow', async (t) => {
  const tc = of('traffic-counter');
  const v85s: number[] = [];
  const byDay = new Map<string, number>();
  const slow: number[] = [];
  const fast: number[] = [];
  for (const { body } of tc) {
    for (const [lane, c] of Object.entries(body.channels!)) {
      const light = c.vehicle_count! - c.heavy_vehicle_count!;
      const classes = body.speedClasses?.[lane];
      if (light > 0) {
        if (!classes) t.fail(`${body.ts} ${lane}: ${light} light vehicles and no speed classes`);
        else if (classes.counts.reduce((a, b) => a + b, 0) !== light) t.fail(`${body.ts} ${lane}: classes do not add up to the light vehicles`);
      }
      const day = new Date(Date.parse(body.ts) + 3_600_000).toISOString().slice(0, 10);
      byDay.set(day, (byDay.get(day) ?? 0) + c.vehicle_count!);
      if (c.flow! > 500) slow.push(c.mean_speed!);
      else if (c.flow! > 0 && c.flow! < 100) fast.push(c.mean_speed!);
    }
  }
  // V85 of one station over the Friday, interpolated inside the class holding the 85th percentile.
  const friday = tc.filter((r) => r.device === 'tc-rd910-pr40' && Date.parse(r.body.ts) < START + 86_400_000);
  const bounds = friday.find((r) => r.body.speedClasses)!.body.speedClasses!.lane1!.bounds;
  const counts = bounds.map(() => 0);
  for (const r of friday) for (const c of Object.values(r.body.speedClasses ?? {})) c.counts.forEach((n, i) => (counts[i]! += n));
  const total = counts.reduce((a, b) => a + b, 0);
  let cum = 0;
  for (let i = 0; i < counts.length; i++) {
    if (cum + counts[i]! >= 0.85 * total) {
      const hi = bounds[i + 1] ?? bounds[i]! + 20;
      v85s.push(bounds[i]! + ((0.85 * total - cum) / counts[i]!) * (hi - bounds[i]!));
      break;
    }
    cum += counts[i]!;
  }
  t.ok(v85s[0]! > 85 && v85s[0]! < 110, `V85 ${v85s[0]!.toFixed(1)} km/h on a road whose light vehicles average about 85`);
  t.ok(byDay.get('2026-01-18')! < 0.8 * byDay.get('2026-01-16')!, `Sunday ${byDay.get('2026-01-18')} < Friday ${byDay.get('2026-01-16')}`);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  t.ok(slow.length > 10 && mean(slow) < mean(fast), `mean speed ${mean(slow).toFixed(1)} at > 500 veh/h < ${mean(fast).toFixed(1)} at < 100 veh/h`);
});

t.test('school: CO2 rises with lessons, outdoor level when empty; heating follows the timetable', async (t) => {
  const rooms = of('building-sensor');
  const weekend = rooms.filter((r) => Date.parse(r.body.ts) > START + 86_400_000 * 1.5);
  t.ok(weekend.every((r) => r.body.metrics!.co2! < 600 && r.body.metrics!.occupancy_state === 0), 'weekend: empty rooms near outdoor CO2');
  const lessons = rooms.filter((r) => r.body.metrics!.occupancy_state === 1);
  t.ok(lessons.length > 20 && Math.max(...lessons.map((r) => r.body.metrics!.co2!)) > 900, 'occupied rooms climb well above outdoor air');
  t.ok(rooms.filter((r) => r.body.metrics!.temperature_setpoint === 19).every((r) => new Date(Date.parse(r.body.ts)).getUTCDay() === 5), 'comfort setpoint only on the school day');
});
