/**
 * The optional InfluxDB mirror (VIGIE_INFLUX_URL), a singleton role (`influx`): its holder
 * reads the commit feed from its stored position (consumer `influx`), so every commit of every
 * process is mirrored once, and a failover resumes where the last holder stopped. A slow or
 * absent InfluxDB costs the ingest nothing: the mirror's own bounded buffer absorbs it
 * (beyond it, the oldest points are dropped and counted, as before).
 */
import { claimPosition, advancePosition, FeedConsumer } from '../cluster/feed-consumer.ts';
import type { ModuleFactory } from '../platform-module.ts';
import { InfluxMirror } from './mirror.ts';
import { toLine } from './points.ts';

export const influxModule: ModuleFactory = async (ctx) => {
  const cfg = ctx.config.influx;
  if (!cfg) return { name: 'influx' };
  const logger = ctx.logger.child({ component: 'influx-mirror' });
  const mirror = new InfluxMirror({ ...cfg, logger, registry: ctx.telemetry.registry });
  let feed: FeedConsumer | null = null;
  return {
    name: 'influx',
    singletons: {
      influx: {
        async start() {
          const position = await claimPosition(ctx.pool, 'influx');
          logger.info({ url: cfg.url, org: cfg.org, bucket: cfg.bucket, maxBuffer: cfg.maxBuffer, position: position.seq }, 'mirroring observations to InfluxDB');
          feed = new FeedConsumer({
            pool: ctx.pool,
            bus: ctx.bus,
            logger,
            position,
            maxEntries: 200,
            maxObservations: cfg.batchSize,
            pollMs: ctx.config.cluster.feedPollMs,
            handle: async (entries, p) => {
              for (const e of entries) mirror.push(e.observations.map((o) => toLine(o, ctx.registry.get(o.deviceId), cfg.measurementPrefix)));
              await advancePosition(ctx.pool, p, entries[entries.length - 1]!.seq);
            },
          });
          await feed.start();
        },
        async stop() {
          await feed?.stop();
          feed = null;
        },
      },
    },
    stop: () => mirror.stop(Math.min(ctx.config.shutdownTimeoutMs, 5000)),
  };
};
