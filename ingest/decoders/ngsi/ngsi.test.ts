/**
 * The NGSI decoder on the cases the Smart Data Models' published examples do not reach
 * (those are golden cases in testdata/): interval forms, the IoT Agents' entity TimeInstant,
 * unit codes, attributes without a documented unit, angles, expanded NGSI-LD names.
 */
import t from 'tap';
import type { DecodeContext } from '../../decoder.ts';
import { createNgsiDecoder } from './index.ts';

const ctx: DecodeContext = { now: new Date(), device: () => undefined, profile: () => undefined, state: () => new Map() };
const decoder = createNgsiDecoder();
const decode = (entity: object) => decoder.decode({ topic: 'vigie/ngsi', payload: Buffer.from(JSON.stringify(entity)), receivedAt: new Date('2026-01-15T08:10:00Z') }, ctx);
const rows = (r: ReturnType<typeof decode>) => r.readings.map((x) => [x.metric, x.channel ?? '', x.value, x.time?.toISOString()]);
const codes = (r: ReturnType<typeof decode>) => r.rejects.map((x) => [x.code, x.field]);
const weather = (extra: object) => ({ id: 'urn:ngsi-ld:WeatherObserved:ws-1', type: 'WeatherObserved', dateObserved: '2026-01-15T08:00:00Z', ...extra });
const traffic = (extra: object) => ({ id: 'tfo-1', type: 'TrafficFlowObserved', laneId: 2, intensity: 30, ...extra });

t.test('dateObserved intervals: start/end, start/duration, duration/end, dated at the end with the period for flow', async (t) => {
  for (const dateObserved of ['2026-01-15T07:54:00Z/2026-01-15T08:00:00Z', '2026-01-15T07:54:00Z/PT6M', 'PT6M/2026-01-15T08:00:00Z']) {
    t.same(rows(decode(traffic({ dateObserved }))), [
      ['vehicle_count', 'lane2', 30, '2026-01-15T08:00:00.000Z'],
      ['flow', 'lane2', 300, '2026-01-15T08:00:00.000Z'],
    ], dateObserved);
  }
  t.same(codes(decode(traffic({ dateObserved: '2026-01-15T08:00:00Z/2026-01-15T07:54:00Z' }))), [['invalid_timestamp', 'dateObserved']], 'end before start');
  t.same(codes(decode(traffic({ dateObserved: '2026-01-15T07:54:00Z/P1M' }))), [['invalid_timestamp', 'dateObserved']], 'months have no fixed length');
});

t.test("the IoT Agents' TimeInstant dates an entity without dateObserved; attribute metadata wins", async (t) => {
  const r = decode({
    id: 'urn:ngsi-ld:WeatherObserved:ws-2',
    type: 'WeatherObserved',
    TimeInstant: { type: 'DateTime', value: '2026-01-15T07:55:00.000Z' },
    temperature: { type: 'Number', value: 2.5 },
    windSpeed: { type: 'Number', value: 3, metadata: { TimeInstant: { type: 'DateTime', value: '2026-01-15T07:58:00.000Z' } } },
    dewPoint: { type: 'Number', value: 1, metadata: { timestamp: { type: 'DateTime', value: '2026-01-15T07:57:00Z' } } },
  });
  t.same(rows(r), [
    ['air_temperature', '', 2.5, '2026-01-15T07:55:00.000Z'],
    ['wind_speed', '', 3, '2026-01-15T07:58:00.000Z'],
    ['dew_point', '', 1, '2026-01-15T07:57:00.000Z'],
  ]);
  const bad = decode(weather({ temperature: { type: 'Property', value: 2, observedAt: 'yesterday' }, windSpeed: 3 }));
  t.same(codes(bad), [['invalid_timestamp', 'temperature.observedAt']], 'an unreadable own time rejects that attribute only');
  t.same(rows(bad), [['wind_speed', '', 3, '2026-01-15T08:00:00.000Z']]);
});

t.test('unitCode is converted; codes outside Recommendation 20 or of another quantity are refused', async (t) => {
  const r = decode(weather({
    temperature: { type: 'Property', value: 275.15, unitCode: 'KEL' },
    windSpeed: { type: 'Property', value: 36, unitCode: 'KMH' },
    relativeHumidity: { type: 'Property', value: 80, unitCode: 'P1' },
    atmosphericPressure: { type: 'Property', value: 101200, unitCode: 'PAL' },
    illuminance: { type: 'Property', value: 5000, unitCode: 'LX' },
    dewPoint: { type: 'Property', value: 3, unitCode: 'MTR' },
  }));
  t.same(rows(r), [
    ['air_temperature', '', 2, '2026-01-15T08:00:00.000Z'],
    ['wind_speed', '', 10, '2026-01-15T08:00:00.000Z'],
    ['relative_humidity', '', 80, '2026-01-15T08:00:00.000Z'],
    ['pressure', '', 1012, '2026-01-15T08:00:00.000Z'],
  ]);
  t.same(codes(r), [['unsupported_unit', 'illuminance'], ['unsupported_unit', 'dewPoint']]);
  t.match(r.rejects[0]?.reason, /unitCode "LX" is not a UN\/CEFACT Recommendation 20 code/);
});

t.test('attributes whose model gives no unit need a unitCode', async (t) => {
  const r = decode(weather({ gustSpeed: 12, visibility: 800 }));
  t.same(codes(r), [['unsupported_unit', 'gustSpeed'], ['unsupported_unit', 'visibility']]);
  t.same(rows(decode(weather({ gustSpeed: { type: 'Property', value: 72, unitCode: 'KMH' }, visibility: { type: 'Property', value: 0.4, unitCode: 'KMT' } }))), [
    ['wind_gust', '', 20, '2026-01-15T08:00:00.000Z'],
    ['visibility', '', 400, '2026-01-15T08:00:00.000Z'],
  ]);
  t.same(decode(weather({ visibility: 'poor', temperature: 1 })).rejects, [], 'a visibility category is not a measurement');
  const co2 = decode({ id: 'room-1', type: 'IndoorEnvironmentObserved', dateObserved: '2026-01-15T08:00:00Z', co2: 900 });
  t.same(codes(co2), [['unsupported_unit', 'co2']]);
  t.match(co2.rejects[0]?.reason, /mg\/L/);
});

t.test('wind directions in -180..180 are the same directions in 0..360', async (t) => {
  t.same(rows(decode(weather({ windDirection: -45 }))), [['wind_direction', '', 315, '2026-01-15T08:00:00.000Z']]);
  t.same(decode(weather({ windDirection: -45 })).readings[0]?.quality, ['converted']);
});

t.test('expanded NGSI-LD attribute names are read by their last segment', async (t) => {
  const r = decode({
    id: 'urn:ngsi-ld:WeatherObserved:ws-3',
    type: 'https://smartdatamodels.org/dataModel.Weather/WeatherObserved',
    'https://smartdatamodels.org/dateObserved': { type: 'Property', value: { '@type': 'DateTime', '@value': '2026-01-15T08:00:00Z' } },
    'https://smartdatamodels.org/dataModel.Weather/temperature': { type: 'Property', value: -3 },
  });
  t.same(rows(r), [['air_temperature', '', -3, '2026-01-15T08:00:00.000Z']]);
});

t.test('vehicle classes: never one key, heavy ones also counted as heavy', async (t) => {
  const period = { dateObservedFrom: '2026-01-15T07:54:00Z', dateObservedTo: '2026-01-15T08:00:00Z' };
  t.same(rows(decode(traffic({ ...period, vehicleType: 'tanker', vehicleSubType: 'ADR' }))), [
    ['vehicle_class_count', 'lane2.tanker.ADR', 30, '2026-01-15T08:00:00.000Z'],
    ['heavy_vehicle_count', 'lane2.tanker.ADR', 30, '2026-01-15T08:00:00.000Z'],
  ]);
  t.same(rows(decode(traffic({ ...period, vehicleType: 'van' }))), [['vehicle_class_count', 'lane2.van', 30, '2026-01-15T08:00:00.000Z']]);
  t.same(rows(decode(traffic({ ...period, laneId: undefined, vehicleType: 'car' }))), [['vehicle_class_count', 'car', 30, '2026-01-15T08:00:00.000Z']], 'no lane: the class alone');
});

t.test('NGSI-LD multi-attribute instances stay apart by datasetId', async (t) => {
  const r = decode(weather({
    temperature: [
      { type: 'Property', value: 1.5 },
      { type: 'Property', value: 0.5, datasetId: 'urn:ngsi-ld:Dataset:shaded' },
      { type: 'Property', value: 274.15, unitCode: 'KEL', datasetId: 'urn:ngsi-ld:Dataset:mast-2m' },
    ],
  }));
  t.same(rows(r), [
    ['air_temperature', '', 1.5, '2026-01-15T08:00:00.000Z'],
    ['air_temperature', 'shaded', 0.5, '2026-01-15T08:00:00.000Z'],
    ['air_temperature', 'mast-2m', 1, '2026-01-15T08:00:00.000Z'],
  ]);
  t.same(r.readings.map((x) => x.field), ['temperature[0]', 'temperature[1]', 'temperature[2]']);
});
