/**
 * What the world does to the devices, as a function of time: sky, precipitation, salting,
 * traffic incidents, boiler faults, ventilation. Models read it; scenarios write it. It is a
 * pure function of time (no state), so every device sees the same world whatever the order in
 * which the fleet is stepped, and a seed gives the same run twice.
 */

export interface Interval {
  from: number;
  to: number;
}

export interface WeatherSpan extends Interval {
  /** Cloud cover 0 (clear) .. 1 (overcast). */
  cloud?: number;
  /** mm/h of water equivalent. */
  precipitation?: number;
  /** °C added to the station's climate (a cold spell). */
  airOffset?: number;
  /** Dew-point depression of the air mass, °C (small: moist air). */
  dewDepression?: number;
  /** m/s. */
  wind?: number;
  /** Only these devices (default: every road-weather station). */
  devices?: string[];
}

export interface Salting {
  at: number;
  /** g/m² of NaCl spread. */
  grams: number;
  devices?: string[];
}

export interface Incident extends Interval {
  device: string;
  /** Lanes (channels) of the direction the incident blocks. */
  lanes: string[];
  /** Capacity left past the incident, veh/h per lane. */
  capacity: number;
  /** Distance from the station to the incident, metres downstream. */
  distance: number;
}

export interface BuildingEvent extends Interval {
  building?: string;
  devices?: string[];
  /** `boiler-fault`: the burner locks out; `ventilation`: airflow multiplied by `factor`. */
  kind: 'boiler-fault' | 'ventilation';
  factor?: number;
}

export interface Environment {
  weather: WeatherSpan[];
  salting: Salting[];
  incidents: Incident[];
  buildings: BuildingEvent[];
  /** Extra school holidays (YYYY-MM-DD pairs, inclusive). */
  holidays: Array<[string, string]>;
  /**
   * Start from the varying climate under the scenario's weather spans; default: only when there
   * are no spans (a scenario's weather is then all there is, outside its spans a mild grey day).
   */
  climate?: boolean;
}

export const emptyEnvironment = (): Environment => ({ weather: [], salting: [], incidents: [], buildings: [], holidays: [] });

const applies = (list: string[] | undefined, id: string) => !list || list.includes(id);

/** A number in [0, 1) from a key (FNV-1a): the regional weather of a 3-hour block, the same for every station. */
function unit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  // MurmurHash3's finaliser: neighbouring blocks get unrelated values.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

const BLOCK_MS = 3 * 3_600_000;

/**
 * The weather when no scenario says otherwise: 3-hour blocks of cloud cover, about one in five
 * overcast blocks with rain or snow (0.3-2 mm/h), air masses drier under clear skies. A
 * deterministic function of the time, so every run and every station agrees on it.
 */
export function climate(t: number): { cloud: number; precipitation: number; airOffset: number; dewDepression: number; wind: number } {
  const block = Math.floor(t / BLOCK_MS);
  const cloud = Math.round(unit(`cloud${block}`) * 100) / 100;
  const wet = cloud > 0.75 && unit(`rain${block}`) < 0.6;
  return {
    cloud,
    precipitation: wet ? Math.round((0.3 + 1.7 * unit(`rate${block}`)) * 10) / 10 : 0,
    airOffset: Math.round((unit(`air${Math.floor(t / (4 * BLOCK_MS))}`) * 4 - 2) * 10) / 10,
    dewDepression: wet ? 0.8 : 1.5 + 4 * (1 - cloud),
    wind: Math.round((1 + 6 * unit(`wind${block}`)) * 10) / 10,
  };
}

/** The weather a station sees at `t`: the climate, overridden field by field by the scenario's spans (the last matching wins). */
export function weatherAt(env: Environment, device: string, t: number): Required<Omit<WeatherSpan, 'from' | 'to' | 'devices'>> {
  const w = env.weather.length === 0 || env.climate ? climate(t) : { cloud: 0.6, precipitation: 0, airOffset: 0, dewDepression: 3, wind: 3 };
  for (const s of env.weather) if (t >= s.from && t < s.to && applies(s.devices, device)) Object.assign(w, Object.fromEntries(Object.entries(s).filter(([k, v]) => v !== undefined && !['from', 'to', 'devices'].includes(k))));
  return w;
}

export function saltSpread(env: Environment, device: string, from: number, to: number): number {
  let g = 0;
  for (const s of env.salting) if (s.at >= from && s.at < to && applies(s.devices, device)) g += s.grams;
  return g;
}

export function incidentAt(env: Environment, device: string, lane: string, t: number): Incident | undefined {
  return env.incidents.find((i) => i.device === device && i.lanes.includes(lane) && t >= i.from && t < i.to);
}

/** Incidents of a station and lane that started before `t` (the queue may still be draining). */
export function incidentsBefore(env: Environment, device: string, lane: string, t: number): Incident[] {
  return env.incidents.filter((i) => i.device === device && i.lanes.includes(lane) && i.from <= t);
}

export function buildingEvent(env: Environment, kind: BuildingEvent['kind'], building: string | undefined, device: string, t: number): BuildingEvent | undefined {
  return env.buildings.find((e) => e.kind === kind && t >= e.from && t < e.to && (e.building === undefined || e.building === building) && applies(e.devices, device));
}
