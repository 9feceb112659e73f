/**
 * The optional InfluxDB mirror (VIGIE_INFLUX_URL): consumes committed batches asynchronously.
 * A slow or absent InfluxDB costs the ingest nothing: the listener only formats lines and
 * appends them to a bounded buffer.
 */
import type { ModuleFactory } from '../platform-module.ts';
import { InfluxMirror } from './mirror.ts';
import { toLine } from './points.ts';

export const influxModule: ModuleFactory = async (ctx) => {
  const cfg = ctx.config.influx;
  if (!cfg) return { name: 'influx' };
  const logger = ctx.logger.child({ component: 'influx-mirror' });
  const mirror = new InfluxMirror({ ...cfg, logger, registry: ctx.telemetry.registry });
  logger.info({ url: cfg.url, org: cfg.org, bucket: cfg.bucket, maxBuffer: cfg.maxBuffer }, 'mirroring observations to InfluxDB');
  return {
    name: 'influx',
    onCommitted: (batch) => {
      if (batch.observations.length === 0) return;
      mirror.push(batch.observations.map((o) => toLine(o, ctx.registry.get(o.deviceId), cfg.measurementPrefix)));
    },
    stop: () => mirror.stop(Math.min(ctx.config.shutdownTimeoutMs, 5000)),
  };
};
