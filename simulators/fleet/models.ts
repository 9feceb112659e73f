/**
 * Plausible device behaviour (README, "The native wire format"): diurnal temperature with the
 * road surface lagging the air, traffic with morning and evening peaks, ~8-12 % heavy vehicles
 * and light-vehicle speed classes (the input of a true V85), school
 * rooms whose CO2 climbs while occupied, cumulative meters. Values are in the canonical units
 * of the native format.
 */
import type { Device } from '../../schemas/index.ts';
import { gaussian } from './random.ts';

export interface NativeMessage {
  ts: string;
  metrics?: Record<string, number>;
  channels?: Record<string, Record<string, number>>;
  speedClasses?: Record<string, { bounds: number[]; counts: number[] }>;
}

/** The speed classes (km/h lower bounds) French counting stations commonly report; the last is open. */
const SPEED_CLASS_BOUNDS = [0, 50, 70, 90, 110, 130];
/** Spread of individual light-vehicle speeds around the period mean, km/h (one standard deviation). */
const LIGHT_SPEED_SD = 10;

export interface ModelState {
  energy: number;
  water: number;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Local hour of day in Paris, as a fraction (0-24). */
function parisHour(t: Date): number {
  const s = t.toLocaleString('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const [h, m] = s.split(':').map(Number);
  return (h ?? 0) + (m ?? 0) / 60;
}

function isSchoolTime(t: Date): boolean {
  const day = new Date(t.toLocaleString('en-US', { timeZone: 'Europe/Paris' })).getDay();
  const h = parisHour(t);
  return day >= 1 && day <= 5 && h >= 8 && h < 17.5;
}

/** Winter-ish daily cycle: minimum near 06:00, maximum near 15:00. */
function airTemperature(t: Date, base: number): number {
  return base + 4 * Math.sin(((parisHour(t) - 9) / 24) * 2 * Math.PI);
}

/**
 * Sample-to-sample jitter of road-weather sensors: a surface or air temperature probe resolves
 * 0.1 °C and its reading moves by a few hundredths between two samples; a capacitive humidity
 * sensor by a few tenths of a percent. Larger white noise at a 5 s demo interval made the
 * simulated surface cross 0 °C and the dew point back and forth every few samples, which no
 * road does.
 */
const JITTER = { temperature: 0.05, humidity: 0.5 };

export function roadWeather(t: Date, random: () => number, base = 3): NativeMessage {
  const air = airTemperature(t, base) + gaussian(random) * JITTER.temperature;
  const rh = Math.min(100, Math.max(40, 85 - (air - base) * 4 + gaussian(random) * JITTER.humidity));
  // Magnus formula for the dew point.
  const g = Math.log(rh / 100) + (17.62 * air) / (243.12 + air);
  const dew = (243.12 * g) / (17.62 - g);
  const surface = air - 1.2 + gaussian(random) * JITTER.temperature;
  const wet = rh > 92;
  const surfaceState = wet ? (surface <= 0 ? 7 : 5) : surface <= dew && surface <= 0 ? 13 : 3;
  const wind = Math.max(0, 3 + gaussian(random) * 1.5);
  return {
    ts: t.toISOString(),
    metrics: {
      air_temperature: round(air),
      relative_humidity: round(rh),
      dew_point: round(dew),
      surface_temperature: round(surface),
      subsurface_temperature: round(base + 2 + gaussian(random) * 0.1),
      freezing_point: wet ? -0.5 : 0,
      water_film: wet ? round(0.2 + random() * 0.3, 2) : 0,
      friction: wet ? round(0.6 + random() * 0.1, 2) : 0.82,
      surface_state: surfaceState,
      precipitation_rate: wet ? round(random() * 1.5, 2) : 0,
      visibility: Math.round(wet ? 800 + random() * 2000 : 8000 + random() * 12000),
      wind_speed: round(wind),
      wind_gust: round(wind * (1.4 + random() * 0.4)),
      wind_direction: Math.round(200 + gaussian(random) * 30 + 360) % 360,
      pressure: round(1013 + gaussian(random) * 2),
    },
  };
}

/** Vehicles per hour per lane: night trough, 08:00 and 17:30 peaks. */
function hourlyProfile(hour: number): number {
  const peak = (center: number, width: number) => Math.exp(-((hour - center) ** 2) / (2 * width ** 2));
  return 60 + 700 * peak(8, 1) + 550 * peak(17.5, 1.3) + 300 * peak(13, 3);
}

export function trafficCount(t: Date, random: () => number, periodSeconds: number, lanes: string[], scale = 1): NativeMessage {
  const hour = parisHour(t);
  const channels: Record<string, Record<string, number>> = {};
  let speedClasses: NativeMessage['speedClasses'];
  for (const lane of lanes) {
    const hourlyFlow = hourlyProfile(hour) * scale * (0.9 + random() * 0.2);
    const count = Math.max(0, Math.round((hourlyFlow * periodSeconds) / 3600 + gaussian(random)));
    const heavy = Math.round(count * (0.08 + random() * 0.04));
    const congestion = Math.min(1, hourlyFlow / 1800);
    const speed = count === 0 ? 0 : round(88 - 40 * congestion ** 3 + gaussian(random) * 3);
    channels[lane] = {
      vehicle_count: count,
      heavy_vehicle_count: heavy,
      flow: Math.round((count * 3600) / periodSeconds),
      ...(count > 0 ? { mean_speed: Math.max(5, speed) } : {}),
      occupancy: round(Math.min(100, congestion * 25 + random())),
    };
    if (count > 0) {
      // Each light vehicle around the period's mean speed, counted in its class: the V85 from
      // these classes sits about LIGHT_SPEED_SD above the mean, as real traffic does.
      const counts = SPEED_CLASS_BOUNDS.map(() => 0);
      for (let i = 0; i < count - heavy; i++) {
        const v = Math.max(5, speed + gaussian(random) * LIGHT_SPEED_SD);
        let k = SPEED_CLASS_BOUNDS.length - 1;
        while (k > 0 && v < SPEED_CLASS_BOUNDS[k]!) k--;
        counts[k]!++;
      }
      (speedClasses ??= {})[lane] = { bounds: SPEED_CLASS_BOUNDS, counts };
    }
  }
  return { ts: t.toISOString(), channels, ...(speedClasses ? { speedClasses } : {}) };
}

export function classroom(t: Date, random: () => number): NativeMessage {
  const occupied = isSchoolTime(t);
  const h = parisHour(t);
  // CO2 climbs through a lesson and drops at breaks (10:00, 12:00, 15:30).
  const lessonPhase = occupied ? ((h - 8) % 2) / 2 : 0;
  const co2 = occupied ? 550 + 900 * lessonPhase + gaussian(random) * 40 : 420 + gaussian(random) * 10;
  return {
    ts: t.toISOString(),
    metrics: {
      air_temperature: round((occupied ? 20.5 : 17) + gaussian(random) * 0.3),
      relative_humidity: round(45 + gaussian(random) * 3),
      co2: Math.max(400, Math.round(co2)),
      temperature_setpoint: occupied ? 19 : 16,
      occupancy_state: occupied ? 1 : 0,
      battery: round(92 - random() * 0.1),
    },
  };
}

export function meter(t: Date, random: () => number, state: ModelState, periodSeconds: number): NativeMessage {
  const occupied = isSchoolTime(t);
  const kw = (occupied ? 35 : 8) + gaussian(random) * 2;
  state.energy += (Math.max(0, kw) * periodSeconds) / 3600;
  state.water += occupied ? (0.6 * periodSeconds) / 3600 : 0.0;
  return { ts: t.toISOString(), metrics: { energy: round(state.energy, 3), power: round(Math.max(0, kw), 2), water_volume: round(state.water, 3) } };
}

export function boiler(t: Date, random: () => number): NativeMessage {
  const h = parisHour(t);
  const running = h >= 6 && h < 18;
  return {
    ts: t.toISOString(),
    metrics: {
      boiler_state: running ? 1 : 0,
      fault: 0,
      supply_temperature: round(running ? 68 + gaussian(random) : 35 + gaussian(random)),
      return_temperature: round(running ? 52 + gaussian(random) : 33 + gaussian(random)),
    },
  };
}

export function messageFor(device: Device, t: Date, random: () => number, state: ModelState, periodSeconds: number): NativeMessage {
  switch (device.kind) {
    case 'road-weather-station':
      return roadWeather(t, random, Number(device.tags.baseTemperature ?? 3));
    case 'traffic-counter':
      return trafficCount(t, random, periodSeconds, (device.tags.lanes ?? 'lane1,lane2').split(','), Number(device.tags.trafficScale ?? 1));
    case 'building-sensor':
      return classroom(t, random);
    case 'meter':
      return meter(t, random, state, periodSeconds);
    case 'boiler':
      return boiler(t, random);
    default:
      return { ts: t.toISOString(), metrics: { battery: 100 } };
  }
}
