/**
 * The time-series capability: storage upkeep (rollups, partitions, aggregate refresh), the
 * series/KPI/export routes and the live stream. Plugged into the platform's MODULES list.
 */
import type { ModuleFactory } from '../platform-module.ts';
import { StorageMaintenance } from './maintenance.ts';
import { seriesRoutes } from './routes/series.ts';
import { streamRoutes } from './routes/stream.ts';
import { LiveHub } from './live-hub.ts';
import { buildingRoutes } from './routes/buildings.ts';
import { exportRoutes } from './routes/export.ts';
import { roadRoutes } from './routes/roads.ts';
import { trafficRoutes } from './routes/traffic.ts';

export const timeseriesModule: ModuleFactory = async (ctx) => {
  const { config, pool, logger, timescale } = ctx;
  const ts = config.timeseries;
  const maintenance = new StorageMaintenance({
    pool,
    logger: logger.child({ component: 'timeseries' }),
    timescale,
    rollupIntervalMs: ts.rollupIntervalMs,
    retentionDays: ts.retentionDays,
    rollupLateDays: ts.rollupLateDays,
  });
  maintenance.start();
  const env = { pool, timescale, maxPoints: ts.seriesMaxPoints };
  const hub = new LiveHub(ts.streamReplay, (id) => ctx.registry.get(id)?.domain);
  const routes = [seriesRoutes(env), trafficRoutes(env), roadRoutes(env), buildingRoutes(env), exportRoutes(env), streamRoutes({ hub, sse: ctx.sse })];
  return {
    name: 'timeseries',
    routes: async (app) => {
      for (const r of routes) await r(app);
    },
    onCommitted: (batch) => {
      maintenance.onCommitted(batch);
      hub.publish(batch);
    },
    stop: () => maintenance.stop(),
  };
};
