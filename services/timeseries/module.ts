/**
 * The time-series capability: storage upkeep (rollups, partitions, aggregate refresh, commit
 * feed pruning: the `maintenance` singleton role), the series/KPI/export routes and the live
 * stream, which every process serves from the commit feed.
 */
import { pruneCommitLog, prunedUpTo } from '../cluster/commit-log.ts';
import type { ModuleFactory } from '../platform-module.ts';
import { StorageMaintenance } from './maintenance.ts';
import { seriesRoutes } from './routes/series.ts';
import { streamRoutes } from './routes/stream.ts';
import { LiveHub } from './live-hub.ts';
import { buildingRoutes } from './routes/buildings.ts';
import { exportRoutes } from './routes/export.ts';
import { roadRoutes } from './routes/roads.ts';
import { trafficRoutes } from './routes/traffic.ts';

/** How often the maintenance holder prunes the commit feed. */
const PRUNE_EVERY_MS = 60_000;

export const timeseriesModule: ModuleFactory = async (ctx) => {
  const { config, pool, logger, timescale } = ctx;
  const ts = config.timeseries;
  const log = logger.child({ component: 'timeseries' });
  let maintenance: StorageMaintenance | null = null;
  let stopTenure: Array<() => void> = [];
  const env = { pool, timescale, maxPoints: ts.seriesMaxPoints };
  const hub = new LiveHub({ feed: ctx.commits, domainOf: (id) => ctx.registry.get(id)?.domain, replayMax: ts.streamReplay, prunedUpTo: () => prunedUpTo(pool) });
  const routes = [seriesRoutes(env), trafficRoutes(env), roadRoutes(env), buildingRoutes(env), exportRoutes(env), streamRoutes({ hub, sse: ctx.sse })];
  const prune = async () => {
    try {
      const n = await pruneCommitLog(pool, config.cluster.commitLogRetentionMs, config.cluster.consumerStaleMs);
      if (n > 0) log.debug({ entries: n }, 'commit feed pruned');
    } catch (err) {
      log.warn({ err }, 'commit feed pruning failed; retrying later');
    }
  };
  return {
    name: 'timeseries',
    routes: async (app) => {
      for (const r of routes) await r(app);
    },
    singletons: {
      maintenance: {
        async start() {
          const m = new StorageMaintenance({
            pool,
            logger: log,
            timescale,
            rollupIntervalMs: ts.rollupIntervalMs,
            retentionDays: ts.retentionDays,
            compressAfterDays: ts.compressAfterDays,
            rollupLateDays: ts.rollupLateDays,
          });
          m.start();
          maintenance = m;
          // Late data committed by any process (TimescaleDB refresh of the range it touched).
          // Plain PostgreSQL marks stale hours in the batch's own transaction.
          if (timescale) stopTenure.push(ctx.commits.subscribe({ send: (entries) => entries.forEach((e) => m.onCommitted(e)) }));
          const timer = setInterval(() => void prune(), PRUNE_EVERY_MS);
          timer.unref();
          stopTenure.push(() => clearInterval(timer));
        },
        async stop() {
          for (const s of stopTenure) s();
          stopTenure = [];
          await maintenance?.stop();
          maintenance = null;
        },
      },
    },
  };
};
