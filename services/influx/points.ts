/**
 * Observations to InfluxDB line protocol: one measurement per domain (`roads`, `buildings`,
 * `health`, with an optional prefix), the metric as the field name, tags device, channel (when
 * set), site and kind (from the registry), and the observed time in nanoseconds. Observations
 * carry millisecond precision, so the nanosecond timestamp is exact for what was stored.
 */
import { Point } from '@influxdata/influxdb-client';
import { METRICS, isMetricName, type Observation } from '../../schemas/index.ts';
import type { Device } from '../../schemas/index.ts';

export function nanos(t: Date): string {
  return `${BigInt(t.getTime()) * 1_000_000n}`;
}

export function toLine(o: Observation, device: Device | undefined, prefix: string): string {
  const domain = isMetricName(o.metric) ? METRICS[o.metric].domain : 'other';
  const p = new Point(`${prefix}${domain}`).tag('device', o.deviceId);
  if (o.channel) p.tag('channel', o.channel);
  if (device?.site) p.tag('site', device.site);
  if (device?.building?.building) p.tag('site', device.building.building);
  if (device?.kind) p.tag('kind', device.kind);
  p.floatField(o.metric, o.value).timestamp(nanos(o.time));
  return p.toLineProtocol()!;
}
