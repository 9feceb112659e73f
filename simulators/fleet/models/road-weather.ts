/**
 * A road-weather station (NTCIP 1204 "ESS"), physically coherent step by step:
 * - air temperature follows an asymmetric daily cycle (minimum near sunrise, maximum mid
 *   afternoon) whose amplitude grows under a clear sky;
 * - the dew point is the air mass's (air temperature minus a depression), never above the air
 *   temperature: at saturation the air is foggy and RH is 100 % (Magnus formula with the WMO
 *   coefficients, WMO-No. 8 (2018), Annex 4.B);
 * - the surface exchanges heat with the air and the ground with a time constant of about an
 *   hour, and loses long-wave radiation to a clear night sky: on clear, calm nights the surface
 *   ends 2-4 °C below the air (Thornes, "Thermal mapping and road-weather information systems
 *   for highway engineers", 1991), clouds cut that loss;
 * - water on the surface comes from precipitation and condensation (surface below the dew
 *   point), leaves by evaporation and run-off; salt dissolves in it and lowers its freezing
 *   point along the NaCl-water phase diagram (about -0.6 °C per % by mass when dilute,
 *   eutectic -21.1 °C at 23.3 %, CRC Handbook of Chemistry and Physics, "Concentrative
 *   properties of aqueous solutions"); salt is carried away with run-off and traffic;
 * - the surface state is the NTCIP 1204 essSurfaceStatus code derived from all that: a dry
 *   road is never icy, ice needs water at or below the freezing point.
 */
import { parisTime } from '../calendar.ts';
import { saltSpread, weatherAt, type Environment } from '../environment.ts';
import { gaussian } from '../random.ts';
import { clamp, round, type NativeMessage } from './types.ts';

/** NTCIP 1204 v04 essSurfaceStatus codes used here. */
export const SURFACE = { dry: 3, traceMoisture: 4, wet: 5, chemicallyWet: 6, iceWarning: 7, iceWatch: 8, snowWarning: 9, dew: 12, frost: 13 } as const;

export interface RoadWeatherState {
  t: number;
  surface: number;
  subsurface: number;
  /** Liquid or frozen water on the road, mm. */
  film: number;
  /** Condensation deposit (dew or hoar frost), mm. */
  deposit: number;
  /** Snow cover, mm water equivalent. */
  snow: number;
  /** Residual salt, g/m². */
  salt: number;
  pressure: number;
  /** Cloud cover as the air has felt it (relaxes towards the sky's over about 2 h). */
  cloud: number;
}

/** Saturation vapour pressure over water, hPa (Magnus, WMO-No. 8 Annex 4.B). */
export const esat = (t: number) => 6.112 * Math.exp((17.62 * t) / (243.12 + t));
/** Dew point from vapour pressure (inverse Magnus). */
const dewFromE = (e: number) => {
  const g = Math.log(e / 6.112);
  return (243.12 * g) / (17.62 - g);
};

/** -1 .. 1: minimum at 07:00, maximum at 15:00 local time (8 h rise, 16 h fall). */
function diurnal(hour: number): number {
  if (hour >= 7 && hour < 15) return -Math.cos((Math.PI * (hour - 7)) / 8);
  return Math.cos((Math.PI * ((hour - 15 + 24) % 24)) / 16);
}

/** Freezing point of the surface solution from salt (g/m²) dissolved in the film (mm = kg/m²). */
export function freezingPoint(saltG: number, filmMm: number): number {
  if (saltG <= 0 || filmMm <= 0) return 0;
  const pct = (100 * saltG) / (saltG + filmMm * 1000);
  if (pct >= 23.3) return -21.1;
  // -0.6 °C per % when dilute, steepening towards the eutectic.
  return -(0.6 * pct + 0.0165 * pct * pct);
}

export function initialRoadWeather(t: number, base: number): RoadWeatherState {
  return { t, surface: base, subsurface: base + 1.5, film: 0, deposit: 0, snow: 0, salt: 0, pressure: 1016, cloud: 0.6 };
}

export interface RoadWeatherReading {
  air: number;
  dew: number;
  rh: number;
  state: number;
  message: NativeMessage;
}

export function stepRoadWeather(s: RoadWeatherState, device: string, t: number, base: number, env: Environment, random: () => number): RoadWeatherReading {
  const dtH = clamp((t - s.t) / 3_600_000, 0, 6);
  const lt = parisTime(t);
  const w = weatherAt(env, device, t);
  // The air's daily amplitude follows the sky with inertia: a passing cloud does not jump it.
  s.cloud += (clamp(w.cloud, 0, 1) - s.cloud) * (1 - Math.exp(-dtH / 2));
  const clear = 1 - s.cloud;
  const skyClear = 1 - clamp(w.cloud, 0, 1);
  const amplitude = 2 + 4 * clear;
  // Sample-to-sample jitter of the probes: a few hundredths of a degree (a probe resolves 0.1 °C);
  // more white noise would make a surface hovering near 0 °C cross it back and forth every sample.
  const air = base + w.airOffset + amplitude * diurnal(lt.hour) + gaussian(random) * 0.05;
  // Rain or snow moistens the air mass towards saturation.
  const depression = w.precipitation > 0 ? Math.min(w.dewDepression, 0.8) : w.dewDepression;
  const dew = Math.min(air, air - depression + gaussian(random) * 0.05);
  const rh = clamp((100 * esat(dew)) / esat(air), 0, 100);

  // Surface energy balance, relaxed towards equilibrium with a one-hour time constant.
  const night = lt.hour < 7.5 || lt.hour >= 17.5;
  const radiative = night ? -4 * skyClear * (w.wind < 4 ? 1 : 0.5) : 5 * skyClear * Math.max(0, Math.sin((Math.PI * (lt.hour - 7.5)) / 10));
  const equilibrium = 0.85 * (air + radiative) + 0.15 * s.subsurface;
  const k = 1 - Math.exp(-dtH / 1);
  s.surface += (equilibrium - s.surface) * k;
  s.subsurface += (base + 1.5 + w.airOffset * 0.5 - s.subsurface) * (1 - Math.exp(-dtH / 24));

  // Water budget (mm): precipitation in, evaporation and run-off out, condensation when the
  // surface is below the dew point.
  const snowing = w.precipitation > 0 && air <= 1;
  if (snowing && s.surface <= 0.5) s.snow += w.precipitation * dtH;
  else s.film += w.precipitation * dtH;
  const vapourDeficit = Math.max(0, esat(s.surface) - esat(dew));
  const evaporation = 0.03 * vapourDeficit * (1 + w.wind / 4) * dtH;
  s.film = Math.max(0, s.film - evaporation);
  if (s.film > 1) s.film = 1 + (s.film - 1) * Math.exp(-dtH * 4); // run-off
  if (s.surface > 0.5 && s.snow > 0) {
    const melt = Math.min(s.snow, 0.5 * (s.surface - 0.5) * dtH + (s.salt > 5 ? 0.3 * dtH : 0));
    s.snow -= melt;
    s.film += melt;
  }
  if (s.surface < dew) s.deposit += 0.015 * (dew - s.surface) * dtH;
  else s.deposit = Math.max(0, s.deposit - evaporation - 0.02 * dtH);
  // Salt: spreading, then loss with run-off and traffic (half-life of about 6 h on a wet road).
  s.salt += saltSpread(env, device, s.t, t);
  s.salt *= Math.exp(-dtH * (s.film > 0.05 ? 0.12 : 0.03));
  if (s.salt < 0.5) s.salt = 0;
  s.pressure += (gaussian(random) * 0.3 - (s.pressure - 1016) * 0.02) * dtH;
  s.t = t;

  const water = s.film + s.deposit;
  const fp = freezingPoint(s.salt, water);
  const state = surfaceState(s, fp, dew);
  const frozen = state === SURFACE.iceWarning || state === SURFACE.frost || state === SURFACE.snowWarning;
  const friction = state === SURFACE.dry ? 0.82 : state === SURFACE.snowWarning ? 0.3 : frozen ? 0.2 : state === SURFACE.iceWatch ? 0.45 : 0.65 - Math.min(0.15, s.film * 0.1);
  const fog = rh >= 98;
  const visibility = fog ? 150 + random() * 250 : w.precipitation > 0 ? (snowing ? 1500 : 4000) / (1 + w.precipitation) + random() * 300 : 9000 + random() * 11000;
  const wind = Math.max(0, w.wind + gaussian(random) * 0.6);
  const noise = () => gaussian(random) * 0.05;
  const wet = water >= 0.01;
  const metrics: Record<string, number> = {
    air_temperature: round(air),
    relative_humidity: round(rh),
    dew_point: round(dew),
    surface_temperature: round(s.surface + noise()),
    subsurface_temperature: round(s.subsurface + noise()),
    // The freezing point of the surface solution is only meaningful, and only reported, on a wet road.
    ...(wet ? { freezing_point: round(fp) } : {}),
    water_film: round(water, 2),
    friction: round(friction, 2),
    surface_state: state,
    precipitation_rate: round(w.precipitation, 2),
    visibility: Math.round(visibility),
    wind_speed: round(wind),
    wind_gust: round(wind * (1.3 + random() * 0.3)),
    wind_direction: Math.round(220 + gaussian(random) * 25 + 360) % 360,
    pressure: round(s.pressure),
  };
  return { air: metrics.air_temperature!, dew: metrics.dew_point!, rh, state, message: { ts: new Date(t).toISOString(), metrics } };
}

/** NTCIP 1204 essSurfaceStatus from the surface's water, salt, temperature and deposit. */
function surfaceState(s: RoadWeatherState, fp: number, dew: number): number {
  if (s.snow >= 0.5) return SURFACE.snowWarning;
  if (s.film >= 0.01) {
    if (s.surface <= fp) return SURFACE.iceWarning;
    if (s.surface <= fp + 1) return SURFACE.iceWatch;
    if (s.salt >= 2) return SURFACE.chemicallyWet;
    return s.film < 0.05 ? SURFACE.traceMoisture : SURFACE.wet;
  }
  if (s.deposit >= 0.01) return s.surface <= 0 && s.surface <= dew + 0.5 ? SURFACE.frost : SURFACE.dew;
  return SURFACE.dry;
}
