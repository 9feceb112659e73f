/**
 * FIWARE Smart Data Models Vigie reads, attribute by attribute: each numeric attribute is
 * mapped to a catalogue metric in the unit the model documents, or refused with the reason.
 *
 * Sources (smart-data-models repositories on GitHub):
 * - dataModel.Weather/WeatherObserved (schema 0.3.4, doc/spec.md; Weather-Commons in
 *   weather-schema.json). Where today's spec states no unit, the default units of the
 *   FIWARE spec it descends from apply (WeatherObserved/doc/spec.md of 2019: temperature and
 *   dewPoint "Degrees centigrades", relativeHumidity "a number between 0 and 1",
 *   windDirection "Decimal degrees", windSpeed "meters per second", atmosphericPressure
 *   "Hecto Pascals", precipitation "Liters per square meter", illuminance "Lux",
 *   snowHeight "Centimeters").
 * - dataModel.Transportation/TrafficFlowObserved (schema 0.0.1): intensity "Total number of
 *   vehicles detected during this observation period", occupancy "Fraction of the observation
 *   time" (0..1), averageVehicleSpeed "Kilometer per hour", vehicleType/vehicleSubType.
 * - dataModel.Environment/IndoorEnvironmentObserved (schema 0.0.1): co2 "nominally in mg/L"
 *   (units "mg per liter"); the 2020 spec: temperature "Celsius degrees", relativeHumidity
 *   "parts per one", atmosphericPressure "Hecto Pascals or millibar", illuminance "lux".
 * - dataModel.Environment/AirQualityObserved (schema 0.1.4): pollutants need a `unitCode`
 *   ("Mandatory" in its 2019 spec); weather properties are "already defined by
 *   WeatherObserved" (same units); pressure "(hPa)"; windDirection -180..180.
 */
import type { ProfileKey } from '../../../schemas/index.ts';

export type AttributeRule =
  | {
      key: ProfileKey;
      /** No default unit in the model: a value without `unitCode` is refused with this reason. */
      unitCodeRequired?: string;
      /** Text values are the model's categories (visibility "moderate"...), not measurements. */
      textIsCategory?: boolean;
      /** Angles the model allows in -180..180: stored as 0..360 (the same direction). */
      wrapDegrees?: boolean;
    }
  | { refuse: string };

export interface EntityModel {
  attributes: Record<string, AttributeRule>;
}

/**
 * Attributes that are not measurements: NGSI core, schema.org and location ones, the time
 * attributes the decoder reads itself, and numeric installation data (laneId is the channel,
 * sensorHeight the mounting height). Booleans and text of any other attribute are not
 * telemetry either (TrafficFlowObserved.congested, reversedLane, weatherType...).
 */
export const DESCRIPTIVE = new Set([
  'id', 'type', '@context', 'dateObserved', 'dateObservedFrom', 'dateObservedTo', 'dateCreated', 'dateModified', 'TimeInstant',
  'createdAt', 'modifiedAt', 'observedAt', 'location', 'address', 'name', 'description', 'alternateName', 'source', 'dataProvider',
  'owner', 'seeAlso', 'areaServed', 'refDevice', 'refPointOfInterest', 'refRoadSegment', 'refWeatherObserved', 'laneId',
  'laneDirection', 'reversedLane', 'congested', 'vehicleType', 'vehicleSubType', 'weatherType', 'sensorPlacement', 'sensorHeight',
  'refIndoor', 'typeofLocation', 'typeOfLocation', 'airQualityLevel',
]);

const NO_METRIC = (what: string) => ({ refuse: `${what}: no Vigie metric holds it` });
const FORECAST = { refuse: 'a forecast or index, not an observation' };

/** Weather properties shared by WeatherObserved and AirQualityObserved ("already defined by WeatherObserved"). */
const WEATHER: Record<string, AttributeRule> = {
  temperature: { key: { metric: 'air_temperature', unit: '°C' } },
  relativeHumidity: { key: { metric: 'relative_humidity', unit: 'fraction' } },
  windSpeed: { key: { metric: 'wind_speed', unit: 'm/s' } },
  windDirection: { key: { metric: 'wind_direction', unit: 'deg' }, wrapDegrees: true },
  // "Liters per square meter": 1 l/m² is a 1 mm water depth.
  precipitation: { key: { metric: 'precipitation', unit: 'mm' } },
};

export const MODELS: Record<string, EntityModel> = {
  TrafficFlowObserved: {
    attributes: {
      // Vehicles counted over the observation period; flow (veh/h) is derived from it.
      // -1 is how counting stations say "no data" (a count is never negative): missing.
      intensity: { key: { metric: 'vehicle_count', sentinels: [-1] } },
      occupancy: { key: { metric: 'occupancy', unit: 'fraction', sentinels: [-1] } },
      averageVehicleSpeed: { key: { metric: 'mean_speed', unit: 'km/h', sentinels: [-1] } },
      averageHeadwayTime: NO_METRIC('headway time between vehicles (s)'),
      averageGapDistance: NO_METRIC('gap distance between vehicles (m)'),
      averageVehicleLength: NO_METRIC('average vehicle length (m)'),
    },
  },
  WeatherObserved: {
    attributes: {
      ...WEATHER,
      dewPoint: { key: { metric: 'dew_point', unit: '°C' } },
      atmosphericPressure: { key: { metric: 'pressure', unit: 'hPa' } },
      illuminance: { key: { metric: 'illuminance', unit: 'lx' } },
      snowHeight: { key: { metric: 'snow_height', unit: 'cm' } },
      gustSpeed: { key: { metric: 'wind_gust' }, unitCodeRequired: 'the model gives gustSpeed no unit (doc/spec.md); send unitCode MTS or KMH' },
      visibility: { key: { metric: 'visibility' }, textIsCategory: true, unitCodeRequired: 'the model gives a numeric visibility no unit (doc/spec.md); send unitCode MTR or KMT' },
      pressureTendency: { refuse: 'a numeric tendency has no unit or period in the model' },
      streamGauge: NO_METRIC('water level of a watercourse (cm)'),
      solarRadiation: NO_METRIC('solar irradiance (W/m²)'),
      directIrradiation: NO_METRIC('solar irradiance (W/m²)'),
      diffuseIrradiation: NO_METRIC('solar irradiance (W/m²)'),
      uVIndexMax: NO_METRIC('UV index'),
      feelsLikeTemperature: { refuse: 'an apparent temperature computed from others, not a measurement' },
      feelLikesTemperature: { refuse: 'an apparent temperature computed from others, not a measurement' },
      airTemperatureTSA: { refuse: 'a time-series aggregate; the instantaneous temperature is read' },
      airQualityIndex: FORECAST,
      airQualityIndexForecast: FORECAST,
      airTemperatureForecast: FORECAST,
      precipitationForecast: FORECAST,
      relativeHumidityForecast: FORECAST,
    },
  },
  IndoorEnvironmentObserved: {
    attributes: {
      temperature: { key: { metric: 'air_temperature', unit: '°C' } },
      relativeHumidity: { key: { metric: 'relative_humidity', unit: 'fraction' } },
      co2: {
        key: { metric: 'co2' },
        unitCodeRequired:
          'without unitCode the model gives co2 in mg/L (doc/spec.md), a mass concentration Vigie does not turn into ppm without the air\'s temperature and pressure; send unitCode 59 (ppm)',
      },
      atmosphericPressure: { key: { metric: 'pressure', unit: 'hPa' } },
      illuminance: { key: { metric: 'illuminance', unit: 'lx' } },
      // "Number of people in the room": any person makes the room occupied.
      peopleCount: { key: { metric: 'occupancy_state', binary: true } },
    },
  },
  AirQualityObserved: {
    attributes: {
      ...WEATHER,
      // "Atmospheric pressure (hPa) observed."
      pressure: { key: { metric: 'pressure', unit: 'hPa' } },
      co2: { key: { metric: 'co2' }, unitCodeRequired: 'pollutants carry a mandatory unitCode in AirQualityObserved; send unitCode 59 (ppm)' },
      airQualityIndex: FORECAST,
      reliability: { refuse: 'a reliability score of the observation, not a measurement' },
      charge: NO_METRIC("the monitoring device's charging voltage"),
      ...Object.fromEntries(
        ['co', 'no', 'no2', 'nox', 'so2', 'o3', 'pm1', 'pm4', 'pm10', 'pm25', 'c6h6', 'as', 'cd', 'ni', 'pb', 'sh2', 'tpc', 'tsp', 'volatileOrganicCompoundsTotal'].map((p) => [
          p,
          NO_METRIC('pollutant concentration'),
        ]),
      ),
    },
  },
};

/**
 * TrafficFlowObserved.vehicleType values (the model's enum) that are vehicles over 3.5 t, the
 * French "poids lourds": goods vehicles, buses and coaches, tractors and works vehicles. Their
 * count also feeds heavy_vehicle_count. `minibus` is not among them: a small bus (EU category
 * M2) is allowed up to 5 t and is often under 3.5 t, so the class does not say.
 */
export const HEAVY_VEHICLE_TYPES = new Set(['lorry', 'trailer', 'tanker', 'bus', 'agriculturalVehicle', 'constructionOrMaintenanceVehicle']);
