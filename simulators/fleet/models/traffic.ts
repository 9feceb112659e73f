/**
 * A traffic counting station, per lane and direction, vehicle by vehicle:
 * - demand follows the day's profile (weekday: morning peak towards town, evening peak back;
 *   Saturday: late-morning and afternoon shopping peaks; Sundays and public holidays: a low
 *   morning and the evening return), shaped like interurban count profiles; the daily volume of
 *   a lane is the `trafficScale` tag times 5,000 vehicles;
 * - heavy vehicles (PL, > 3.5 t) are about 10 % by day and a larger share at night on a
 *   weekday, almost none on Sundays and holidays (the French weekend ban on goods vehicles over
 *   7.5 t, Saturday or holiday eve 22:00 to Sunday or holiday 22:00);
 * - the mean speed falls with flow along Greenshields' speed-density line (Greenshields, "A
 *   study of traffic capacity", HRB Proceedings 14, 1935): v = vf/2 (1 + sqrt(1 - q/qmax)),
 *   with qmax 1,800 veh/h per lane (two-lane road order of magnitude, Highway Capacity Manual
 *   6th ed., chapter 15), vf the `freeFlowSpeed` tag (default 85 km/h: light vehicles drive a
 *   little above the 80 km/h limit of two-lane roads, décret 2018-487); heavy vehicles keep
 *   under their own 80 km/h limit (Code de la route R413-8);
 * - every vehicle gets its own speed and length, so the period's mean speed, occupancy (share
 *   of time a vehicle is over the 2 m loop) and light-vehicle speed classes (the input of a
 *   true V85) all come from the same vehicles;
 * - an incident downstream caps the flow at what passes it; the queue grows at demand minus
 *   that capacity and spreads upstream at jam density (about 7 m per vehicle and lane, the
 *   point-queue / shock-wave reading of Lighthill-Whitham-Richards); once it reaches the
 *   station, the station counts the discharge flow at crawling speed with high occupancy,
 *   until the queue has drained.
 */
import { dayType, parisTime } from '../calendar.ts';
import { incidentAt, incidentsBefore, type Environment } from '../environment.ts';
import { gaussian, poisson } from '../random.ts';
import { clamp, round, type NativeMessage } from './types.ts';

/** Lower bounds (km/h) of the speed classes counting stations commonly report; the last is open. */
export const SPEED_CLASS_BOUNDS = [0, 50, 70, 90, 110, 130];
const QMAX = 1800;
const LOOP_M = 2;
const JAM_M_PER_VEH = 7;

export interface Lane {
  name: string;
  direction: 'increasing' | 'decreasing';
}

export interface TrafficState {
  t: number;
  /** Queue (vehicles) behind an incident, per lane. */
  queue: Record<string, number>;
  /** Last passage time per lane, ms (headways and distinct record times). */
  last: Record<string, number>;
}

const bell = (h: number, c: number, w: number) => Math.exp(-((h - c) ** 2) / (2 * w * w));

/** Share of the day's vehicles in this hour, by day type and direction (integrates to about 1). */
function hourlyShare(hour: number, day: 'weekday' | 'saturday' | 'sunday', inbound: boolean): number {
  let v: number;
  if (day === 'weekday') v = 0.012 + (inbound ? 0.1 : 0.05) * bell(hour, 8, 0.9) + (inbound ? 0.055 : 0.1) * bell(hour, 17.6, 1.2) + 0.045 * bell(hour, 12.8, 2.5);
  else if (day === 'saturday') v = 0.008 + 0.075 * bell(hour, 11.3, 1.8) + 0.07 * bell(hour, 16.5, 2);
  else v = 0.006 + 0.045 * bell(hour, 11, 1.8) + 0.085 * bell(hour, 18, 1.8);
  // Night trough: 01:00-05:00 carries very little.
  return v * (hour < 5 || hour >= 23 ? 0.35 : 1) / 1.05;
}

const DAY_FACTOR = { weekday: 1, saturday: 0.85, sunday: 0.7 };

export function lanesOf(tags: Record<string, string>): Lane[] {
  const names = (tags.lanes ?? 'lane1,lane2').split(',').map((s) => s.trim()).filter(Boolean);
  const dirs = tags.directions?.split(',').map((s) => s.trim());
  return names.map((name, i) => ({
    name,
    direction: (dirs?.[i] as Lane['direction']) ?? (i < Math.ceil(names.length / 2) ? 'increasing' : 'decreasing'),
  }));
}

export function initialTraffic(t: number): TrafficState {
  return { t, queue: {}, last: {} };
}

export interface TrafficOptions {
  device: string;
  lanes: Lane[];
  periodSeconds: number;
  scale: number;
  freeFlow: number;
  /** Individual vehicle records on the wire besides the speed classes. */
  records: boolean;
}

/** The period ending at `t`. */
export function stepTraffic(s: TrafficState, t: number, o: TrafficOptions, env: Environment, random: () => number): NativeMessage {
  const T = o.periodSeconds;
  const start = t - T * 1000;
  const lt = parisTime(start + (T * 1000) / 2);
  const day = dayType(lt);
  const channels: Record<string, Record<string, number>> = {};
  const speedClasses: NonNullable<NativeMessage['speedClasses']> = {};
  const vehicles: NonNullable<NativeMessage['vehicles']> = {};
  const perDirection = (d: Lane['direction']) => o.lanes.filter((l) => l.direction === d).length;
  for (const lane of o.lanes) {
    const inbound = lane.direction === 'increasing';
    const laneShare = perDirection(lane.direction) > 1 ? (lane.name === o.lanes.find((l) => l.direction === lane.direction)!.name ? 0.6 : 0.4) * 2 / perDirection(lane.direction) : 1;
    const demand = 5000 * o.scale * DAY_FACTOR[day] * hourlyShare(lt.hour, day, inbound) * laneShare * (1 + gaussian(random) * 0.05);
    // Queue behind an incident downstream: grows while demand exceeds what passes it.
    const incident = incidentAt(env, o.device, lane.name, t);
    let queue = s.queue[lane.name] ?? 0;
    const passCapacity = incident ? incident.capacity : QMAX;
    queue = Math.max(0, queue + ((demand - passCapacity) * T) / 3600);
    s.queue[lane.name] = queue;
    const distance = incident?.distance ?? incidentsBefore(env, o.device, lane.name, t).at(-1)?.distance ?? Infinity;
    const queued = queue * JAM_M_PER_VEH >= distance;
    const flow = queued ? Math.min(demand, passCapacity) : Math.min(demand, QMAX);
    const n = poisson(random, (flow * T) / 3600);
    // Greenshields: uncongested branch for free traffic, congested branch inside a queue.
    const root = Math.sqrt(Math.max(0, 1 - flow / QMAX));
    const meanLight = queued ? Math.max(3, (o.freeFlow / 2) * (1 - root)) : (o.freeFlow / 2) * (1 + root);
    const heavyShare = day === 'sunday' ? 0.03 : lt.hour < 6 || lt.hour >= 21 ? 0.22 : day === 'saturday' ? 0.05 : 0.1;
    const classCounts = SPEED_CLASS_BOUNDS.map(() => 0);
    const list: Array<{ t: string; speed: number; headway?: number; heavy?: boolean }> = [];
    let heavyCount = 0;
    let speedSum = 0;
    let occupiedS = 0;
    // Passage times: sorted uniform draws over the period, each lane at distinct milliseconds.
    const times = Array.from({ length: n }, () => start + Math.floor(random() * T * 1000)).sort((a, b) => a - b);
    let prev = s.last[lane.name];
    for (const at0 of times) {
      const at = prev !== undefined && at0 <= prev ? prev + 1 : at0;
      const heavy = random() < heavyShare;
      const base = heavy ? Math.min(meanLight, 78) : meanLight;
      const speed = Math.max(2, base + gaussian(random) * (queued ? 0.3 * base : heavy ? 5 : 0.12 * base));
      const length = heavy ? 14 + random() * 4 : 4 + random() * 1;
      occupiedS += (length + LOOP_M) / (speed / 3.6);
      speedSum += speed;
      if (heavy) heavyCount++;
      else {
        let k = SPEED_CLASS_BOUNDS.length - 1;
        while (k > 0 && speed < SPEED_CLASS_BOUNDS[k]!) k--;
        classCounts[k]!++;
      }
      if (o.records) list.push({ t: new Date(at).toISOString(), speed: round(speed), ...(prev !== undefined ? { headway: round((at - prev) / 1000, 2) } : {}), heavy });
      prev = at;
    }
    if (prev !== undefined) s.last[lane.name] = prev;
    channels[lane.name] = {
      vehicle_count: n,
      heavy_vehicle_count: heavyCount,
      flow: Math.round((n * 3600) / T),
      ...(n > 0 ? { mean_speed: round(speedSum / n) } : {}),
      occupancy: round(clamp((100 * occupiedS) / T, 0, 100)),
    };
    if (n > heavyCount) speedClasses[lane.name] = { bounds: SPEED_CLASS_BOUNDS, counts: classCounts };
    if (o.records && list.length > 0) vehicles[lane.name] = list;
  }
  s.t = t;
  return {
    ts: new Date(t).toISOString(),
    channels,
    ...(Object.keys(speedClasses).length ? { speedClasses } : {}),
    ...(Object.keys(vehicles).length ? { vehicles } : {}),
  };
}
