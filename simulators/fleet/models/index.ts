/**
 * One model per device kind, each with its own state and its own random stream (seeded from
 * the run's seed and the device id), stepped at the device's reporting times.
 */
import type { Device } from '../../../schemas/index.ts';
import type { Environment } from '../environment.ts';
import { createRandom, deviceSeed } from '../random.ts';
import { initialBoiler, initialClassroom, stepBoiler, stepClassroom, stepMeter, type BuildingContext } from './buildings.ts';
import { initialRoadWeather, stepRoadWeather } from './road-weather.ts';
import { initialTraffic, lanesOf, stepTraffic } from './traffic.ts';
import type { NativeMessage } from './types.ts';

export type { NativeMessage } from './types.ts';

export interface DeviceModel {
  /** The device's reading for the period ending at `t` (ms), in canonical units. */
  step(t: number): NativeMessage;
  random: () => number;
}

/** Hours of model time run before the first reading, so the state (surface, queues, CO2) has settled. */
export const WARM_UP_MS = 6 * 3_600_000;

export function createModel(device: Device, t0: number, seed: number, env: Environment, periodSeconds: number): DeviceModel {
  const random = createRandom(deviceSeed(seed, device.id));
  const tags = device.tags;
  const ctx: BuildingContext = { device: device.id, building: device.building?.building, env };
  let step: (t: number) => NativeMessage;
  switch (device.kind) {
    case 'road-weather-station': {
      const base = Number(tags.baseTemperature ?? 3);
      const s = initialRoadWeather(t0 - WARM_UP_MS, base);
      for (let t = t0 - WARM_UP_MS + 600_000; t < t0; t += 600_000) stepRoadWeather(s, device.id, t, base, env, random);
      step = (t) => stepRoadWeather(s, device.id, t, base, env, random).message;
      break;
    }
    case 'traffic-counter': {
      const s = initialTraffic(t0);
      const o = { device: device.id, lanes: lanesOf(tags), periodSeconds, scale: Number(tags.trafficScale ?? 1), freeFlow: Number(tags.freeFlowSpeed ?? 85), records: tags.vehicleRecords === 'true' };
      step = (t) => stepTraffic(s, t, o, env, random);
      break;
    }
    case 'building-sensor': {
      // Two hours settle the room (its CO2 and heating time constants are under an hour or two).
      const s = initialClassroom(t0 - 2 * 3_600_000);
      stepClassroom(s, t0, ctx, tags, random);
      step = (t) => stepClassroom(s, t, ctx, tags, random);
      break;
    }
    case 'boiler': {
      const s = initialBoiler(t0 - 3_600_000);
      stepBoiler(s, t0, ctx, tags, random);
      step = (t) => stepBoiler(s, t, ctx, tags, random);
      break;
    }
    case 'meter': {
      // A school's general meter index: somewhere in its life, different per device.
      const s = { t: t0, energy: 50_000 + Math.floor(random() * 200_000), water: 1_000 + Math.floor(random() * 5_000) };
      step = (t) => stepMeter(s, t, ctx, random);
      break;
    }
    default:
      step = (t) => ({ ts: new Date(t).toISOString(), metrics: { battery: 100 } });
  }
  return { step, random };
}
