/** `GET /api/v1/buildings/consumption` and `GET /api/v1/buildings/comfort`. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { badRequest } from '../../api/errors.ts';
import { errorSchema } from '../../api/query-params.ts';
import { comfort, consumption } from '../buildings.ts';
import { checkPeriod, requiredTime, tzParam } from './params.ts';

const BUCKETS = { '1h': 'hour', '1d': 'day', '1w': 'week', '1M': 'month' } as const;
const MAX_BUCKETS = 20_000;
const MAX_COMFORT_DAYS = 400;
const n = z.number().nullable();
const zoneSchema = z.object({
  zone: z.string(),
  occupancySource: z.enum(['sensor', 'schedule', 'mixed']),
  occupiedHours: z.number(),
  temperature: z.object({ avg: n, min: n, max: n, occupiedAvg: n }),
  humidityAvg: n,
  co2: z.object({ avg: n, max: n, occupiedAvg: n }),
  shareAbove1000: n,
  shareAbove1700: n,
  icone: n,
});

export function buildingRoutes(env: { pool: pg.Pool }) {
  return async (app: FastifyInstance): Promise<void> => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      '/api/v1/buildings/consumption',
      {
        schema: {
          tags: ['buildings'],
          summary: 'Consumption from cumulative counters (energy kWh, water m3) per hour/day/week/month, resets and rollovers handled, implausible steps flagged and not summed',
          querystring: z.object({
            building: z.string().min(1).max(128),
            metric: z.enum(['energy', 'water_volume']).default('energy'),
            bucket: z.enum(['1h', '1d', '1w', '1M']).default('1d'),
            from: requiredTime,
            to: requiredTime,
            tz: tzParam,
          }),
          response: {
            200: z.object({
              building: z.string(),
              metric: z.string(),
              unit: z.string(),
              bucket: z.string(),
              tz: z.string(),
              resets: z.number(),
              rollovers: z.number(),
              implausible: z.number(),
              points: z.array(z.object({ time: z.string(), consumption: n })),
              devices: z.array(z.object({ deviceId: z.string(), channel: z.string(), consumption: z.number() })),
            }),
            400: errorSchema,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const bad = checkPeriod(q.from, q.to);
        if (bad) throw badRequest(bad, 'from');
        const unit = BUCKETS[q.bucket];
        const approx = (q.to.getTime() - q.from.getTime()) / ({ hour: 3600, day: 86400, week: 604800, month: 2419200 }[unit] * 1000);
        if (approx > MAX_BUCKETS) throw badRequest(`querystring.bucket: ${Math.ceil(approx)} buckets is above ${MAX_BUCKETS}; use a larger bucket or a shorter range`, 'bucket');
        return consumption(env.pool, { building: q.building, metric: q.metric, bucket: unit, from: q.from, to: q.to, tz: q.tz, devices: (await req.deviceScope()).restrict() });
      },
    );
    r.get(
      '/api/v1/buildings/comfort',
      {
        schema: {
          tags: ['buildings'],
          summary: 'Comfort and CO2 per zone: temperatures, humidity, CO2, share of occupied time above 1000/1700 ppm, ICONE index',
          querystring: z.object({ building: z.string().min(1).max(128), from: requiredTime, to: requiredTime }),
          response: {
            200: z.object({
              building: z.string(),
              from: z.string(),
              to: z.string(),
              summary: zoneSchema.nullable(),
              zones: z.array(zoneSchema),
            }),
            400: errorSchema,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const bad = checkPeriod(q.from, q.to);
        if (bad) throw badRequest(bad, 'from');
        if (q.to.getTime() - q.from.getTime() > MAX_COMFORT_DAYS * 86400_000) throw badRequest(`querystring.to: at most ${MAX_COMFORT_DAYS} days`, 'to');
        const [building, ...zones] = await comfort(env.pool, { ...q, devices: (await req.deviceScope()).restrict() });
        return { building: q.building, from: q.from.toISOString(), to: q.to.toISOString(), summary: building?.zone === '*' ? building : null, zones };
      },
    );
  };
}
