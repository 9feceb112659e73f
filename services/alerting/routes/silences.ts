/** Silences (maintenance windows): alerts in scope are recorded but not notified. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { silenceInputSchema } from '../../../schemas/alerting.ts';
import { notFound } from '../../api/errors.ts';
import { errorSchema, timeParam } from '../../api/query-params.ts';
import type { AlertingRuntime } from '../runtime.ts';
import { deleteSilence, insertSilence, listSilences } from '../store/silences.ts';
import { silenceViewSchema } from './schemas.ts';

export async function silenceRoutes(app: FastifyInstance, opts: { runtime: AlertingRuntime }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pool } = opts.runtime;
  r.get(
    '/silences',
    {
      schema: {
        tags: ['silences'],
        summary: 'Silences, newest first; activeAt= keeps those covering that time; deleted ones on request',
        querystring: z.object({ activeAt: timeParam.optional(), includeDeleted: z.enum(['true', 'false']).transform((v) => v === 'true').default(false) }),
        response: { 200: z.object({ items: z.array(silenceViewSchema) }), 400: errorSchema },
      },
    },
    async (req) => ({ items: await listSilences(pool, { activeAt: req.query.activeAt, includeDeleted: req.query.includeDeleted }) }),
  );
  r.post(
    '/silences',
    { schema: { tags: ['silences'], summary: 'Create a silence (scope, time range, reason, author)', body: silenceInputSchema, response: { 201: silenceViewSchema, 400: errorSchema } } },
    async (req, reply) => {
      const s = await insertSilence(pool, req.body);
      await opts.runtime.refreshSilences();
      reply.status(201);
      return s;
    },
  );
  r.delete(
    '/silences/:id',
    { schema: { tags: ['silences'], summary: 'End a silence now (the record is kept)', params: z.object({ id: z.string().regex(/^\d{1,18}$/, 'silence ids are numbers') }), response: { 204: z.null(), 400: errorSchema, 404: errorSchema } } },
    async (req, reply) => {
      if (!(await deleteSilence(pool, req.params.id))) throw notFound(`no silence ${req.params.id}`);
      await opts.runtime.refreshSilences();
      reply.status(204);
      return null;
    },
  );
}
