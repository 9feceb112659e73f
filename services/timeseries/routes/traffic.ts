/** `GET /api/v1/traffic/stations` (period KPIs) and `GET /api/v1/traffic/tmja` (yearly figures). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { badRequest } from '../../api/errors.ts';
import { errorSchema, listParam } from '../../api/query-params.ts';
import { tmja } from '../tmja.ts';
import { trafficKpis } from '../traffic.ts';
import { checkPeriod, requiredTime } from './params.ts';

/** One station over a year at 6-minute periods is fine; a decade of every station is not. */
const MAX_KPI_DAYS = 400;

const peak = z.object({ hour: z.number(), vehicles: z.number() }).nullable();

const v85Basis = z
  .object({
    source: z.enum(['vehicles', 'speedClasses']).describe('individual vehicle records (exact) or light-vehicle speed-class counts (interpolated inside the class)'),
    lightVehicles: z.number().describe('free-flowing light vehicles the V85 rests on'),
    excludedVehicles: z.number().describe('vehicles of the same input left out: heavy, following (headway under 5 s), unclassified, or in periods not shown to be free-flowing'),
    atLeastKmh: z.number().optional().describe('speed classes: the 85th percentile is in the open top class, so V85 is at least this and v85Kmh is null'),
  })
  .nullable();

const v85Estimate = z
  .object({
    kmh: z.number(),
    flag: z.literal('mean-speeds-only').describe('NOT a V85: 85th percentile of period mean speeds weighted by vehicles, over free-flowing periods'),
    periods: z.number(),
    vehicles: z.number(),
  })
  .nullable();

export function trafficRoutes(env: { pool: pg.Pool; timescale: boolean }) {
  return async (app: FastifyInstance): Promise<void> => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      '/api/v1/traffic/stations',
      {
        schema: {
          tags: ['traffic'],
          summary: 'Traffic KPIs per station (or per direction/lane) over a period: counts, %PL, flow, speeds, V85 (from vehicle records or speed classes; a flagged estimate for mean-speed-only stations), occupancy, peak hours',
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
                  v85Kmh: z.number().nullable().describe('speed below which 85 % of free-flowing light vehicles drive; null without vehicle records or speed classes'),
                  v85: v85Basis,
                  v85Estimate,
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
          summary: 'TMJA (annual average daily traffic, both directions) and TMJO (working days) per station for a calendar year, as means over complete days, with the days used and the coverage',
          querystring: z.object({ year: z.coerce.number().int().min(1970).max(2200), device: listParam.optional() }),
          response: {
            200: z.object({
              year: z.number(),
              items: z.array(
                z.object({
                  deviceId: z.string(),
                  year: z.number(),
                  totalCount: z.number().describe('vehicles counted over the year, every day'),
                  daysInYear: z.number(),
                  daysWithData: z.number(),
                  completeDays: z.number().describe('Europe/Paris days on which every lane reported every period'),
                  workingDaysInYear: z.number(),
                  completeWorkingDays: z.number(),
                  coverage: z.number().describe('completeDays / daysInYear'),
                  lanes: z.number(),
                  status: z.enum(['complete', 'partial', 'insufficient']).describe('insufficient: fewer than 90 complete days, tmja and tmjo are null'),
                  tmja: z.number().nullable().describe('mean daily vehicles (all lanes, both directions) over complete days'),
                  tmjo: z.number().nullable().describe('mean daily vehicles over complete working days'),
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
