/** `GET /api/v1/traffic/stations` (period KPIs) and `GET /api/v1/traffic/tmja` (yearly figures). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { badRequest } from '../../api/errors.ts';
import { errorSchema, listParam } from '../../api/query-params.ts';
import { tmja, trafficKpis } from '../traffic.ts';
import { checkPeriod, requiredTime } from './params.ts';

/** One station over a year at 6-minute periods is fine; a decade of every station is not. */
const MAX_KPI_DAYS = 400;

const peak = z.object({ hour: z.number(), vehicles: z.number() }).nullable();

export function trafficRoutes(env: { pool: pg.Pool; timescale: boolean }) {
  return async (app: FastifyInstance): Promise<void> => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      '/api/v1/traffic/stations',
      {
        schema: {
          tags: ['traffic'],
          summary: 'Traffic KPIs per station (or per direction/lane) over a period: counts, %PL, flow, speeds, V85, occupancy, peak hours',
          querystring: z.object({
            from: requiredTime,
            to: requiredTime,
            device: listParam.optional(),
            by: z.enum(['station', 'direction', 'lane']).default('station'),
          }),
          response: {
            200: z.object({
              from: z.string(),
              to: z.string(),
              by: z.string(),
              items: z.array(
                z.object({
                  deviceId: z.string(),
                  direction: z.string().optional(),
                  channel: z.string().optional(),
                  totalCount: z.number(),
                  heavyCount: z.number(),
                  heavySharePercent: z.number().nullable(),
                  flowVehPerHour: z.number().nullable(),
                  meanSpeedKmh: z.number().nullable(),
                  v85Kmh: z.number().nullable(),
                  occupancyPercent: z.number().nullable(),
                  observedHours: z.number(),
                  morningPeak: peak,
                  eveningPeak: peak,
                }),
              ),
            }),
            400: errorSchema,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const bad = checkPeriod(q.from, q.to);
        if (bad) throw badRequest(bad, 'from');
        if (q.to.getTime() - q.from.getTime() > MAX_KPI_DAYS * 86400_000) {
          throw badRequest(`querystring.to: a KPI period is at most ${MAX_KPI_DAYS} days (use /api/v1/traffic/tmja for yearly figures)`, 'to');
        }
        const items = await trafficKpis(env.pool, { from: q.from, to: q.to, devices: (await req.deviceScope()).restrict(q.device, 'traffic-counter'), by: q.by });
        return { from: q.from.toISOString(), to: q.to.toISOString(), by: q.by, items };
      },
    );
    r.get(
      '/api/v1/traffic/tmja',
      {
        schema: {
          tags: ['traffic'],
          summary: 'TMJA (annual average daily traffic, both directions) and TMJO (working days) per station for a calendar year',
          querystring: z.object({ year: z.coerce.number().int().min(1970).max(2200), device: listParam.optional() }),
          response: {
            200: z.object({
              year: z.number(),
              items: z.array(
                z.object({
                  deviceId: z.string(),
                  year: z.number(),
                  totalCount: z.number(),
                  daysInYear: z.number(),
                  daysWithData: z.number(),
                  tmja: z.number(),
                  tmjo: z.number().nullable(),
                  workingDaysWithData: z.number(),
                }),
              ),
            }),
            400: errorSchema,
          },
        },
      },
      async (req) => ({ year: req.query.year, items: await tmja(env.pool, env.timescale, { year: req.query.year, devices: (await req.deviceScope()).restrict(req.query.device, 'traffic-counter') }) }),
    );
  };
}
