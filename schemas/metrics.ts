/**
 * The metric catalogue: every metric Vigie stores, with its one canonical unit and the
 * range a real sensor can physically report. Decoders convert into these units; the
 * normalizer rejects values outside `min`..`max` as absurd (a dead letter, never a number).
 *
 * Ranges are physical limits of the measurand or of the sensor class, not alarm thresholds
 * (the rules in `rules/*.yaml` hold those). NTCIP 1204 sentinels (1001, 65535, 101, 255) fall outside them
 * on purpose, so a sentinel that slipped through a decoder is still caught here.
 */
import { z } from 'zod';

export type MetricDomain = 'roads' | 'buildings' | 'health';

export interface MetricDefinition {
  /** Canonical unit, UCUM-like spelling shown by the API and dashboards. */
  unit: string;
  description: string;
  domain: MetricDomain;
  min: number;
  max: number;
  /** Cumulative counters (energy, water) only ever grow, except on reset or wrap. */
  cumulative?: boolean;
  /** Enumerations/state codes: integers only. */
  integer?: boolean;
}

export const METRICS = {
  // Road weather (NTCIP 1204 ESS quantities, converted to SI-ish canonical units).
  air_temperature: { unit: '°C', description: 'Air temperature', domain: 'roads', min: -60, max: 60 },
  dew_point: { unit: '°C', description: 'Dew point temperature', domain: 'roads', min: -70, max: 40 },
  relative_humidity: { unit: '%', description: 'Relative humidity', domain: 'roads', min: 0, max: 100 },
  surface_temperature: { unit: '°C', description: 'Road surface (pavement) temperature', domain: 'roads', min: -60, max: 85 },
  subsurface_temperature: { unit: '°C', description: 'Road subsurface temperature (30-45 cm)', domain: 'roads', min: -50, max: 70 },
  freezing_point: { unit: '°C', description: 'Freezing point of the surface solution', domain: 'roads', min: -60, max: 5 },
  water_film: { unit: 'mm', description: 'Water film thickness on the surface', domain: 'roads', min: 0, max: 50 },
  friction: { unit: '1', description: 'Grip coefficient (0-1)', domain: 'roads', min: 0, max: 1 },
  surface_state: { unit: 'code', description: 'NTCIP essSurfaceStatus code (0-14, not ordered by severity)', domain: 'roads', min: 0, max: 14, integer: true },
  precipitation_rate: { unit: 'mm/h', description: 'Precipitation rate', domain: 'roads', min: 0, max: 500 },
  visibility: { unit: 'm', description: 'Visibility', domain: 'roads', min: 0, max: 100000 },
  wind_speed: { unit: 'm/s', description: 'Mean wind speed', domain: 'roads', min: 0, max: 90 },
  wind_gust: { unit: 'm/s', description: 'Wind gust speed', domain: 'roads', min: 0, max: 120 },
  wind_direction: { unit: 'deg', description: 'Wind direction (from, clockwise from north)', domain: 'roads', min: 0, max: 360 },
  pressure: { unit: 'hPa', description: 'Atmospheric pressure', domain: 'roads', min: 300, max: 1100 },
  // FIWARE Smart Data Models quantities (ingest/decoders/ngsi/models.ts).
  precipitation: { unit: 'mm', description: 'Precipitation amount registered (1 l/m² = 1 mm), WeatherObserved.precipitation', domain: 'roads', min: 0, max: 1000 },
  snow_height: { unit: 'cm', description: 'Height of the snow cover', domain: 'roads', min: 0, max: 2000 },
  vehicle_class_count: { unit: 'veh', description: 'Vehicles of one class (channel lane<n>.<vehicleType>) counted over the period', domain: 'roads', min: 0, max: 100000, integer: true },
  // Traffic, per lane or direction channel over the station's period.
  vehicle_count: { unit: 'veh', description: 'Vehicles counted over the period', domain: 'roads', min: 0, max: 100000, integer: true },
  heavy_vehicle_count: { unit: 'veh', description: 'Heavy vehicles (PL, > 3.5 t) counted over the period', domain: 'roads', min: 0, max: 100000, integer: true },
  flow: { unit: 'veh/h', description: 'Traffic flow', domain: 'roads', min: 0, max: 20000 },
  mean_speed: { unit: 'km/h', description: 'Mean vehicle speed over the period', domain: 'roads', min: 0, max: 300 },
  occupancy: { unit: '%', description: 'Loop occupancy (share of time a vehicle is present)', domain: 'roads', min: 0, max: 100 },
  // Speed inputs for V85 (services/timeseries/traffic.ts). One vehicle record: its metrics share
  // the lane channel and the passage time (milliseconds), so two vehicles of one lane never share
  // a key. Speed-class counts: the class is in the channel (`lane1:90-110`, open top `lane1:130+`),
  // so two classes of one period never share a key.
  vehicle_speed: { unit: 'km/h', description: 'Speed of one vehicle (individual vehicle record, time = passage time)', domain: 'roads', min: 0, max: 300 },
  vehicle_headway: { unit: 's', description: 'Time since the previous vehicle of the same lane passed (individual vehicle record)', domain: 'roads', min: 0, max: 86400 },
  vehicle_heavy: { unit: 'bool', description: 'Individual vehicle record: heavy vehicle (PL, > 3.5 t) (1) or light vehicle (VL) (0)', domain: 'roads', min: 0, max: 1, integer: true },
  light_speed_class_count: { unit: 'veh', description: 'Light vehicles (VL) counted in one speed class over the period (channel <lane>:<from>-<to> km/h)', domain: 'roads', min: 0, max: 100000, integer: true },
  // Buildings (telemanagement / GTB).
  co2: { unit: 'ppm', description: 'CO2 concentration', domain: 'buildings', min: 0, max: 40000 },
  temperature_setpoint: { unit: '°C', description: 'Zone temperature setpoint', domain: 'buildings', min: -10, max: 40 },
  supply_temperature: { unit: '°C', description: 'Boiler flow (supply) water temperature', domain: 'buildings', min: -20, max: 130 },
  return_temperature: { unit: '°C', description: 'Boiler return water temperature', domain: 'buildings', min: -20, max: 130 },
  boiler_state: { unit: 'bool', description: 'Boiler running (1) or stopped (0)', domain: 'buildings', min: 0, max: 1, integer: true },
  fault: { unit: 'bool', description: 'Equipment fault active (1) or not (0)', domain: 'buildings', min: 0, max: 1, integer: true },
  energy: { unit: 'kWh', description: 'Electricity/heat energy, cumulative counter', domain: 'buildings', min: 0, max: 1e12, cumulative: true },
  power: { unit: 'kW', description: 'Active power', domain: 'buildings', min: -100000, max: 100000 },
  water_volume: { unit: 'm3', description: 'Water volume, cumulative counter', domain: 'buildings', min: 0, max: 1e10, cumulative: true },
  occupancy_state: { unit: 'bool', description: 'Room occupied / motion detected (1) or not (0)', domain: 'buildings', min: 0, max: 1, integer: true },
  illuminance: { unit: 'lx', description: 'Illuminance', domain: 'buildings', min: 0, max: 200000 },
  // Device health, any domain.
  battery: { unit: '%', description: 'Battery level', domain: 'health', min: 0, max: 100 },
  rssi: { unit: 'dBm', description: 'Received signal strength', domain: 'health', min: -200, max: 20 },
  snr: { unit: 'dB', description: 'Signal to noise ratio', domain: 'health', min: -40, max: 40 },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

export function isMetricName(name: string): name is MetricName {
  return Object.prototype.hasOwnProperty.call(METRICS, name);
}

export function metricDefinition(name: MetricName): MetricDefinition {
  return METRICS[name];
}

export const metricNameSchema = z.enum(METRIC_NAMES as [MetricName, ...MetricName[]]);
