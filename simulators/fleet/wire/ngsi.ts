/**
 * FIWARE Smart Data Models entities a partner platform would push: TrafficFlowObserved per lane
 * in keyValues, WeatherObserved in NGSI-v2 normalized form, published on `vigie/ngsi`.
 */
import type { Device } from '../../../schemas/index.ts';
import type { NativeMessage } from '../models/index.ts';
import type { WireMessage } from './lorawan.ts';

export function ngsiEntities(device: Device, m: NativeMessage, periodSeconds: number): WireMessage {
  const to = new Date(m.ts);
  const from = new Date(to.getTime() - periodSeconds * 1000);
  const ref = `urn:ngsi-ld:Device:${device.id}`;
  if (device.kind === 'traffic-counter') {
    const entities = Object.entries(m.channels ?? {}).map(([lane, v]) => ({
      id: `urn:ngsi-ld:TrafficFlowObserved:${device.id}:${lane}:${to.toISOString()}`,
      type: 'TrafficFlowObserved',
      refDevice: ref,
      laneId: Number(lane.replace(/\D/g, '')) || 1,
      dateObservedFrom: from.toISOString(),
      dateObservedTo: to.toISOString(),
      intensity: v.vehicle_count ?? 0,
      // Smart Data Models carry occupancy as a 0-1 fraction.
      occupancy: Math.round((v.occupancy ?? 0) * 10) / 1000,
      ...(v.mean_speed !== undefined ? { averageVehicleSpeed: v.mean_speed } : {}),
      location: device.position ? { type: 'Point', coordinates: [device.position.lon, device.position.lat] } : undefined,
    }));
    return { topic: 'vigie/ngsi', payload: JSON.stringify(entities) };
  }
  const v = m.metrics ?? {};
  const num = (value: number | undefined) => ({ type: 'Number', value });
  const entity = {
    id: `urn:ngsi-ld:WeatherObserved:${device.id}`,
    type: 'WeatherObserved',
    refDevice: { type: 'Relationship', value: ref },
    dateObserved: { type: 'DateTime', value: to.toISOString() },
    temperature: num(v.air_temperature),
    relativeHumidity: num(v.relative_humidity === undefined ? undefined : Math.round(v.relative_humidity * 10) / 1000),
    dewPoint: num(v.dew_point),
    atmosphericPressure: num(v.pressure),
    windSpeed: num(v.wind_speed),
    windDirection: num(v.wind_direction),
  };
  return { topic: 'vigie/ngsi', payload: JSON.stringify(entity) };
}
