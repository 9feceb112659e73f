/**
 * Departmental school buildings (collèges):
 * - occupancy follows the collège timetable and the zone A school holidays (calendar.ts);
 * - heating setpoints follow the Code de l'énergie: 19 °C on average when occupied (R241-26),
 *   16 °C when unoccupied for less than 48 hours, 8 °C (frost protection) for 48 hours or more
 *   (R241-27), with a 06:00 pre-heat on school days;
 * - the boiler's flow temperature follows a weather-compensated heating curve (outside
 *   temperature compensation as in EN 12098-1), its burner cycles on and off around it with a
 *   hysteresis, and a lock-out fault stops it: the water and then the rooms cool down;
 * - classroom CO2 is a single-zone mass balance, V dC/dt = G·N + Q·(C_out - C) (solved exactly
 *   over one-minute steps): G = 0.0043 L/s of CO2 per pupil aged 11-16 at about 1.2 met
 *   (Persily and de Jonge, "Carbon dioxide generation rates for building occupants", Indoor Air
 *   27(5), 2017), Q the mechanical ventilation, 15 m³/h per occupant in teaching premises
 *   (Règlement sanitaire départemental type, article 64), plus 0.3 air change per hour of
 *   infiltration and windows opened at breaks; outdoor air 420 ppm;
 * - meters integrate power and water draw into cumulative indexes that only move forward,
 *   except at a declared reset (meter replaced, index wrap).
 */
import { closedForLong, parisTime, schoolPeriod } from '../calendar.ts';
import { buildingEvent, weatherAt, type Environment } from '../environment.ts';
import { gaussian } from '../random.ts';
import { clamp, round, type NativeMessage } from './types.ts';

const OUTDOOR_CO2 = 420;
const CO2_PER_PUPIL_M3S = 0.0043e-3;
const VENTILATION_M3H_PER_OCCUPANT = 15;
const SENSOR_MAX_PPM = 5000;

export interface BuildingContext {
  device: string;
  building?: string;
  env: Environment;
}

/** Outdoor air near the building: the same daily cycle as the road stations, milder base. */
function outdoor(ctx: BuildingContext, t: number, base: number): number {
  const lt = parisTime(t);
  const w = weatherAt(ctx.env, ctx.device, t);
  const h = lt.hour;
  const d = h >= 7 && h < 15 ? -Math.cos((Math.PI * (h - 7)) / 8) : Math.cos((Math.PI * ((h - 15 + 24) % 24)) / 16);
  return base + w.airOffset + (2 + 3 * (1 - w.cloud)) * d;
}

/** Heating setpoint the building management system asks for at `t`. */
export function heatingSetpoint(ctx: BuildingContext, t: number): number {
  const lt = parisTime(t);
  if (closedForLong(lt, ctx.env.holidays)) return 8;
  const schoolDay = schoolPeriod({ ...lt, hour: 10 }, ctx.env.holidays) !== 'closed';
  const end = lt.weekday === 3 ? 12.5 : 17.5;
  return schoolDay && lt.hour >= 6 && lt.hour < end ? 19 : 16;
}

export interface ClassroomState {
  t: number;
  co2: number;
  temperature: number;
  battery: number;
}

export const initialClassroom = (t: number): ClassroomState => ({ t, co2: OUTDOOR_CO2 + 30, temperature: 17, battery: 92 });

export function stepClassroom(s: ClassroomState, t: number, ctx: BuildingContext, tags: Record<string, string>, random: () => number): NativeMessage {
  const pupils = Number(tags.pupils ?? 28);
  const volume = Number(tags.roomVolume ?? 180);
  const outBase = Number(tags.outdoorBase ?? 6);
  let occupied = false;
  // One-minute steps: the exact solution of the mass balance over each.
  for (let m = s.t + 60_000; m <= t; m += 60_000) {
    const lt = parisTime(m);
    const period = schoolPeriod(lt, ctx.env.holidays);
    occupied = period === 'lesson';
    const occupants = occupied ? pupils + 1 : 0;
    const vent = buildingEvent(ctx.env, 'ventilation', ctx.building, ctx.device, m);
    const mechanical = period !== 'closed' || (lt.hour >= 7.5 && lt.hour < 18 && lt.weekday >= 1 && lt.weekday <= 5) ? ((pupils + 1) * VENTILATION_M3H_PER_OCCUPANT) / 3600 : 0;
    const windows = period === 'break' ? (3 * volume) / 3600 : 0;
    const q = mechanical * (vent?.factor ?? 1) + (0.3 * volume) / 3600 + windows;
    const steady = OUTDOOR_CO2 + (occupants * CO2_PER_PUPIL_M3S * 1e6) / q;
    s.co2 = steady + (s.co2 - steady) * Math.exp((-q * 60) / volume);
    // Room temperature: thermostatic heating when the boiler works, else a slow loss to outdoors.
    const heating = !buildingEvent(ctx.env, 'boiler-fault', ctx.building, ctx.device, m);
    const target = heating ? heatingSetpoint(ctx, m) + (occupied ? 0.8 : 0) : outdoor(ctx, m, outBase) + 3 + (occupied ? 1 : 0);
    const tau = heating && target > s.temperature ? 1 : heating ? 4 : 30;
    s.temperature += (target - s.temperature) * (1 - Math.exp(-1 / 60 / tau));
  }
  s.t = Math.max(s.t, t - ((t - s.t) % 60_000));
  occupied = schoolPeriod(parisTime(t), ctx.env.holidays) === 'lesson';
  s.battery = Math.max(0, s.battery - 0.0005);
  const co2 = clamp(s.co2 + gaussian(random) * 15, 380, SENSOR_MAX_PPM);
  return {
    ts: new Date(t).toISOString(),
    metrics: {
      air_temperature: round(s.temperature + gaussian(random) * 0.1),
      relative_humidity: round(clamp(38 + (s.co2 - OUTDOOR_CO2) / 150 + gaussian(random), 20, 70)),
      co2: Math.round(co2),
      temperature_setpoint: heatingSetpoint(ctx, t),
      occupancy_state: occupied ? 1 : 0,
      battery: round(s.battery),
    },
  };
}

export interface BoilerState {
  t: number;
  supply: number;
  burner: boolean;
}

export const initialBoiler = (t: number): BoilerState => ({ t, supply: 40, burner: false });

export function stepBoiler(s: BoilerState, t: number, ctx: BuildingContext, tags: Record<string, string>, random: () => number): NativeMessage {
  const outBase = Number(tags.outdoorBase ?? 6);
  let fault = false;
  let demand = false;
  // 30-second steps: burner cycles are shorter than a reporting period.
  for (let m = s.t + 30_000; m <= t; m += 30_000) {
    fault = buildingEvent(ctx.env, 'boiler-fault', ctx.building, ctx.device, m) !== undefined;
    const setpoint = heatingSetpoint(ctx, m);
    const out = outdoor(ctx, m, outBase);
    demand = out < setpoint;
    // Heating curve: flow temperature rises as it gets colder outside.
    const target = clamp(setpoint + 1.6 * (setpoint - out) + 10, 30, 75);
    if (fault || !demand) s.burner = false;
    else if (s.supply < target - 4) s.burner = true;
    else if (s.supply > target + 3) s.burner = false;
    s.supply += s.burner ? 1.2 * 0.5 : -(s.supply - 18) * (1 - Math.exp(-0.5 / (demand && !fault ? 12 : 40)));
  }
  s.t = Math.max(s.t, t - ((t - s.t) % 30_000));
  fault = buildingEvent(ctx.env, 'boiler-fault', ctx.building, ctx.device, t) !== undefined;
  demand = outdoor(ctx, t, outBase) < heatingSetpoint(ctx, t);
  const drop = s.burner ? 14 : demand && !fault ? 8 : 2;
  return {
    ts: new Date(t).toISOString(),
    metrics: {
      boiler_state: s.burner ? 1 : 0,
      fault: fault ? 1 : 0,
      supply_temperature: round(s.supply + gaussian(random) * 0.2),
      return_temperature: round(Math.max(15, s.supply - drop) + gaussian(random) * 0.2),
    },
  };
}

export interface MeterState {
  t: number;
  energy: number;
  water: number;
}

export function stepMeter(s: MeterState, t: number, ctx: BuildingContext, random: () => number): NativeMessage {
  const dtH = Math.max(0, (t - s.t) / 3_600_000);
  const lt = parisTime(t);
  const occupied = schoolPeriod(lt, ctx.env.holidays) !== 'closed';
  // Base load (servers, fridges, emergency lighting) plus lighting, ventilation and kitchen when open.
  const kw = Math.max(0, (occupied ? 32 : 7) + gaussian(random) * 1.5);
  s.energy += kw * dtH;
  s.water += (occupied ? 0.55 : 0.01) * dtH * (0.8 + random() * 0.4);
  s.t = t;
  return { ts: new Date(t).toISOString(), metrics: { energy: round(s.energy, 3), power: round(kw, 2), water_volume: round(s.water, 3) } };
}
