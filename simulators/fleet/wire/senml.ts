/**
 * SenML packs (RFC 8428) of a small classroom sensor: base name/time/unit, SenML units, a
 * relative time on the CO2 record, JSON or CBOR (integer labels, §6) depending on the device.
 * `ppm` is a secondary unit (RFC 8798 §3), so the pack declares version 26 (RFC 9100 §4); the
 * base name is the device's own id, so the values land on the device itself (no channel).
 */
import { Encoder } from 'cbor-x';
import type { Device } from '../../../schemas/index.ts';
import type { NativeMessage } from '../models/index.ts';
import type { WireMessage } from './lorawan.ts';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: false });

export function senmlPack(device: Device, m: NativeMessage): WireMessage {
  const v = m.metrics ?? {};
  const bt = Math.round(Date.parse(m.ts) / 1000);
  const records: Array<Record<string, unknown>> = [
    { bver: 26, bn: `${device.id}:`, bt, bu: 'Cel', n: 'temp', v: v.air_temperature ?? 20 },
    { n: 'humidity', u: '%RH', v: v.relative_humidity ?? 45 },
    { n: 'co2', u: 'ppm', v: v.co2 ?? 420, t: -1 },
    { n: 'occupancy', vb: (v.occupancy_state ?? 0) === 1 },
    { n: 'battery', u: '%EL', v: v.battery ?? 90 },
  ];
  const topic = `vigie/${device.id}/senml`;
  if (device.tags.encoding !== 'cbor') return { topic, payload: JSON.stringify(records) };
  const labels: Record<string, number> = { bver: -1, bn: -2, bt: -3, bu: -4, n: 0, u: 1, v: 2, vb: 4, t: 6 };
  return { topic, payload: Buffer.from(cbor.encode(records.map((r) => new Map(Object.entries(r).map(([k, x]) => [labels[k]!, x]))))) };
}
