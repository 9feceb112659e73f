/**
 * Faults on demand do what they say, on the messages the fleet would deliver: each fault is
 * compared with the same run without it (same seed), so only its own effect shows.
 */
import path from 'node:path';
import sparkplug from 'sparkplug-payload';
import t from 'tap';
import { parseFaultFlag, resolveFaults, type FaultSpec } from '../simulators/fleet/faults.ts';
import { FleetGenerator, type SimMessage } from '../simulators/fleet/generator.ts';
import { loadFleet } from '../simulators/fleet/run.ts';

const spb = sparkplug.get('spBv1.0')!;
const fleet = loadFleet(path.resolve('infra/demo/devices.yaml'));
const START = Date.parse('2026-01-13T06:00:00Z');
const HOUR = 3_600_000;

function run(specs: FaultSpec[]): SimMessage[] {
  const gen = new FleetGenerator(fleet, { seed: 3, start: START, faults: resolveFaults(specs, START) });
  return [...gen.advance(START + 2 * HOUR), ...gen.drain()];
}
const base = run([]);
const ofDevice = (list: SimMessage[], id: string) => list.filter((m) => m.device === id);
const TC = 'tc-rd910-pr40';

t.test('command-line fault specs parse', async (t) => {
  t.same(parseFaultFlag('dropout:tc-1+tc-2@1h..2h'), { type: 'dropout', devices: ['tc-1', 'tc-2'], from: HOUR, to: 2 * HOUR });
  t.same(parseFaultFlag('late@0s,delay=20m,probability=0.5'), { type: 'late', from: 0, delay: 20 * 60_000, probability: 0.5 });
  t.throws(() => parseFaultFlag('melt:tc-1'));
});

t.test('dropout: the device says nothing in the window, others are untouched', async (t) => {
  const got = run([{ type: 'dropout', devices: [TC], from: HOUR, to: 1.5 * HOUR }]);
  t.ok(ofDevice(got, TC).every((m) => m.at < START + HOUR || m.at >= START + 1.5 * HOUR));
  t.equal(ofDevice(base, TC).length - ofDevice(got, TC).length, 5, 'five 6-minute periods lost');
  t.equal(got.length, base.length - 5);
});

t.test('duplicate, late, out-of-order, burst change delivery, not content', async (t) => {
  const dup = ofDevice(run([{ type: 'duplicate', devices: [TC] }]), TC);
  t.equal(dup.length, 2 * ofDevice(base, TC).length);
  const late = ofDevice(run([{ type: 'late', devices: [TC], delay: 30 * 60_000 }]), TC);
  t.same(late.map((m) => m.payload.toString()), ofDevice(base, TC).map((m) => m.payload.toString()), 'same readings');
  t.ok(late.every((m, i) => m.at === ofDevice(base, TC)[i]!.at + 30 * 60_000), 'each 30 min late');
  const ooo = ofDevice(run([{ type: 'out-of-order', devices: [TC], from: HOUR, to: HOUR + 360_000 }]), TC).map((m) => JSON.parse(m.payload.toString()).ts as string);
  t.ok(ooo.some((ts, i) => i > 0 && ts < ooo[i - 1]!), 'one reading arrives after a newer one');
  const burst = ofDevice(run([{ type: 'burst', devices: [TC], from: HOUR, to: 1.5 * HOUR }]), TC);
  t.equal(burst.filter((m) => m.at === START + 1.5 * HOUR).length, 5, 'half an hour of readings delivered at once');
});

t.test('clock skew, stuck, sentinel, malformed change content', async (t) => {
  const rws = 'rws-rd910-pr42';
  const read = (list: SimMessage[]) => ofDevice(list, rws).map((m) => JSON.parse(m.payload.toString()) as { ts: string; metrics: Record<string, number> });
  const skew = read(run([{ type: 'clock-skew', devices: [rws], offset: -600_000 }]));
  t.ok(skew.every((r, i) => Date.parse(r.ts) === Date.parse(read(base)[i]!.ts) - 600_000), 'device clock 10 min slow');
  const stuck = read(run([{ type: 'stuck', devices: [rws], metric: 'air_temperature', from: HOUR }])).filter((r) => Date.parse(r.ts) >= START + HOUR);
  t.equal(new Set(stuck.map((r) => r.metrics.air_temperature)).size, 1, 'air temperature frozen');
  const sentinel = read(run([{ type: 'sentinel', devices: [rws], metric: 'surface_temperature' }]));
  t.ok(sentinel.every((r) => r.metrics.surface_temperature === 1001), 'NTCIP 1204 missing value sent as a number');
  const bad = ofDevice(run([{ type: 'malformed', devices: [rws] }]), rws);
  t.ok(bad.every((m) => {
    try {
      JSON.parse(m.payload.toString());
      return false;
    } catch {
      return true;
    }
  }), 'every payload cut');
});

t.test('gateway reboot: NDEATH with the old bdSeq, then NBIRTH with the next', async (t) => {
  const node = 'clg-jmoulin:gtb-edge';
  const got = ofDevice(run([{ type: 'gateway-reboot', devices: [node], from: HOUR }]), node);
  const types = got.map((m) => m.topic.split('/')[2]);
  const death = types.indexOf('NDEATH');
  t.ok(death > 0, 'a death mid-run');
  t.equal(types[death + 1], 'NBIRTH');
  const bd = (m: SimMessage) => Number(spb.decodePayload(m.payload).metrics!.find((x) => x.name === 'bdSeq')!.value);
  t.equal(bd(got[death]!), 0);
  t.equal(bd(got[death + 1]!), 1);
  t.equal(bd(got[0]!), 0, 'the first session was bdSeq 0');
});
