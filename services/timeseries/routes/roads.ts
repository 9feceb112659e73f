/** `GET /api/v1/roads/conditions`: road condition now at each road-weather station. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { errorSchema, listParam } from '../../api/query-params.ts';
import { roadConditions } from '../roads.ts';

export function roadRoutes(env: { pool: pg.Pool }) {
  return async (app: FastifyInstance): Promise<void> => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const n = z.number().nullable();
    r.get(
      '/api/v1/roads/conditions',
      {
        schema: {
          tags: ['roads'],
          summary: 'Surface state (NTCIP 1204 essSurfaceStatus), temperatures, margin to freezing, last-hour trend and ice-risk level (ice, snow, frost, pre-alert, none, unknown) per road-weather station',
          querystring: z.object({ device: listParam.optional() }),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  deviceId: z.string(),
                  name: z.string().nullable(),
                  road: z.unknown(),
                  time: z.string().nullable(),
                  surfaceState: z.object({ code: z.number(), label: z.string() }).nullable(),
                  surfaceTemperature: n,
                  freezingPoint: n,
                  dewPoint: n,
                  airTemperature: n,
                  waterFilm: n,
                  precipitationRate: n,
                  marginToFreezing: n,
                  trendPerHour: n,
                  iceRisk: z.object({
                    level: z.enum(['ice', 'snow', 'frost', 'pre-alert', 'none', 'unknown']),
                    marginToFreezing: n,
                    moisture: z.boolean(),
                    reasons: z.array(z.string()),
                  }),
                }),
              ),
            }),
            400: errorSchema,
          },
        },
      },
      async (req) => ({ items: await roadConditions(env.pool, { devices: (await req.deviceScope()).restrict(req.query.device, 'road-weather-station') }) }),
    );
  };
}
