/** Raw observations, time-ordered, paginated with an opaque cursor. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { METRIC_NAMES } from '../../../schemas/index.ts';
import { decodeCursor, queryObservations } from '../../store/observations.ts';
import { badRequest } from '../errors.ts';
import { errorSchema, limitParam, listOf, listParam, timeParam } from '../query-params.ts';

export const observationItemSchema = z.object({
  time: z.string(),
  deviceId: z.string(),
  metric: z.string(),
  channel: z.string(),
  value: z.number(),
  unit: z.string(),
  quality: z.array(z.string()),
  receivedAt: z.string(),
});

export async function observationRoutes(app: FastifyInstance, opts: { pool: pg.Pool }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/observations',
    {
      schema: {
        tags: ['observations'],
        summary: 'Raw observations, time-ordered (ascending unless order=desc)',
        querystring: z.object({
          device: listParam.optional(),
          metric: listParam
            .refine((ms) => ms.every((m) => (METRIC_NAMES as string[]).includes(m)), 'unknown metric (see GET /api/v1/metrics)')
            .optional(),
          channel: z.string().max(64).optional(),
          from: timeParam.optional(),
          to: timeParam.optional(),
          order: z.enum(['asc', 'desc']).default('asc'),
          limit: limitParam(1000, 10000),
          cursor: z.string().max(1024).optional(),
        }),
        response: { 200: listOf(observationItemSchema), 400: errorSchema },
      },
    },
    async (req) => {
      const q = req.query;
      if (q.from && q.to && q.from > q.to) throw badRequest('querystring.from: must not be after "to"', 'from');
      const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
      if (cursor === null) throw badRequest('querystring.cursor: not a cursor returned by this API', 'cursor');
      return queryObservations(opts.pool, {
        devices: (await req.deviceScope()).restrict(q.device),
        metrics: q.metric,
        channel: q.channel,
        from: q.from,
        to: q.to,
        limit: q.limit,
        cursor,
        order: q.order,
      });
    },
  );
}
