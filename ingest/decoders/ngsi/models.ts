/**
 * FIWARE Smart Data Models Vigie understands, attribute by attribute: which catalogue metric,
 * in which unit the model defines it, and which attributes are descriptive (no telemetry).
 * Sources: smart-data-models dataModel.Transportation/TrafficFlowObserved,
 * dataModel.Weather/WeatherObserved, dataModel.Environment/IndoorEnvironmentObserved.
 */
import type { ProfileKey } from '../../../schemas/index.ts';

export interface EntityModel {
  attributes: Record<string, ProfileKey>;
}

/** Attributes every entity may carry that are not measurements (NGSI core and schema.org ones). */
export const DESCRIPTIVE = new Set([
  'id', 'type', '@context', 'dateObserved', 'dateObservedFrom', 'dateObservedTo', 'dateCreated', 'dateModified', 'location',
  'address', 'name', 'description', 'alternateName', 'source', 'dataProvider', 'owner', 'seeAlso', 'areaServed', 'refDevice',
  'refPointOfInterest', 'refRoadSegment', 'laneId', 'laneDirection', 'reversedLane', 'congested', 'vehicleType', 'vehicleSubType',
  'weatherType', 'visibility', 'pressureTendency', 'sensorPlacement', 'sensorHeight', 'refIndoor', 'observedAt',
  'averageHeadwayTime', 'averageGapDistance', 'averageVehicleLength', 'precipitation', 'snowHeight', 'solarRadiation',
  'streamGauge', 'uVIndexMax', 'feelsLikeTemperature', 'gustSpeed',
]);

export const MODELS: Record<string, EntityModel> = {
  TrafficFlowObserved: {
    attributes: {
      // Vehicles counted over dateObservedFrom..dateObservedTo; flow (veh/h) is derived from it.
      // -1 is how counting stations say "no data" (../shared/DOMAIN.md): missing, never a number.
      intensity: { metric: 'vehicle_count', sentinels: [-1] },
      // A 0-1 fraction in the model: stored in percent.
      occupancy: { metric: 'occupancy', unit: 'fraction', sentinels: [-1] },
      averageVehicleSpeed: { metric: 'mean_speed', unit: 'km/h', sentinels: [-1] },
    },
  },
  WeatherObserved: {
    attributes: {
      temperature: { metric: 'air_temperature', unit: '°C' },
      relativeHumidity: { metric: 'relative_humidity', unit: 'fraction' },
      dewPoint: { metric: 'dew_point', unit: '°C' },
      atmosphericPressure: { metric: 'pressure', unit: 'hPa' },
      windSpeed: { metric: 'wind_speed', unit: 'm/s' },
      windDirection: { metric: 'wind_direction', unit: 'deg' },
      illuminance: { metric: 'illuminance', unit: 'lx' },
    },
  },
  IndoorEnvironmentObserved: {
    attributes: {
      temperature: { metric: 'air_temperature', unit: '°C' },
      relativeHumidity: { metric: 'relative_humidity', unit: 'fraction' },
      // The model's text says "mg/L" but its own examples and every real feed carry ppm
      // (indoor values of 400-2000); a unitCode, when sent, overrides this.
      co2: { metric: 'co2', unit: 'ppm' },
      atmosphericPressure: { metric: 'pressure', unit: 'hPa' },
      illuminance: { metric: 'illuminance', unit: 'lx' },
      peopleCount: { metric: 'occupancy_state', binary: true },
    },
  },
};

/** UN/CEFACT common codes used as `unitCode` by NGSI (metadata in v2, a sub-attribute in LD). */
export const UNIT_CODES: Record<string, string> = {
  CEL: '°C', FAH: '°F', KEL: 'K', P1: '%', C62: '1', '59': 'ppm', A97: 'hPa', PAL: 'Pa', KPA: 'kPa', MBR: 'mbar',
  KMH: 'km/h', MTS: 'm/s', MMT: 'mm', MTR: 'm', CMT: 'cm', DD: 'deg', LUX: 'lx', KWH: 'kWh', KWT: 'kW', WTT: 'W', MTQ: 'm3',
};

/** Heavy-vehicle classes of TrafficFlowObserved.vehicleType: their intensity is a PL count (> 3.5 t). */
export const HEAVY_VEHICLE_TYPES = new Set(['lorry', 'trailer', 'tanker', 'bus', 'minibus', 'agriculturalVehicle', 'constructionOrMaintenanceVehicle', 'articulatedVehicle']);
