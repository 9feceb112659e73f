/** `GET /api/v1/series`: bucketed aggregates with gap filling and calendar buckets in a zone. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { badRequest } from '../../api/errors.ts';
import { errorSchema, listParam } from '../../api/query-params.ts';
import { parseBucket } from '../buckets.ts';
import { AGGREGATE_RE, querySeries, type SeriesEnv } from '../series.ts';
import { checkPeriod, deviceList, metricList, requiredTime, tzParam } from './params.ts';

export const seriesQuerySchema = z.object({
  device: deviceList,
  metric: metricList,
  channel: z.string().max(64).optional(),
  from: requiredTime,
  to: requiredTime,
  bucket: z.string().max(8).default('1h'),
  agg: listParam.refine((as) => as.length > 0 && as.every((a) => AGGREGATE_RE.test(a)), 'aggregates: avg, min, max, sum, count, last or pNN (p1..p99)').default(['avg']),
  fill: z.enum(['none', 'null', 'previous', 'linear']).default('none'),
  tz: tzParam,
  source: z.enum(['auto', 'raw']).default('auto'),
});

const pointSchema = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));

export function seriesRoutes(env: SeriesEnv) {
  return async (app: FastifyInstance): Promise<void> => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      '/api/v1/series',
      {
        schema: {
          tags: ['time series'],
          summary: 'Bucketed aggregates per device, metric and channel (rollups when the bucket allows, raw rows otherwise)',
          querystring: seriesQuerySchema,
          response: {
            200: z.object({
              bucket: z.string(),
              tz: z.string(),
              from: z.string(),
              to: z.string(),
              source: z.enum(['raw', 'hourly', 'daily']),
              series: z.array(z.object({ deviceId: z.string(), metric: z.string(), channel: z.string(), unit: z.string(), points: z.array(pointSchema) })),
            }),
            400: errorSchema,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const bad = checkPeriod(q.from, q.to);
        if (bad) throw badRequest(bad, 'from');
        return querySeries(env, {
          devices: (await req.deviceScope()).restrictList(q.device),
          metrics: q.metric,
          channel: q.channel,
          from: q.from,
          to: q.to,
          bucket: parseBucket(q.bucket),
          aggregates: [...new Set(q.agg)],
          tz: q.tz,
          fill: q.fill,
          source: q.source,
        });
      },
    );
  };
}
