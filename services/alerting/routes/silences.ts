/** Silences (maintenance windows): alerts in scope are recorded but not notified. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { silenceInputSchema } from '../../../schemas/alerting.ts';
import { notFound } from '../../api/errors.ts';
import { errorSchema, timeParam } from '../../api/query-params.ts';
import { scopeVisible, scopeWithin } from '../../auth/scope.ts';
import { VigieError } from '../../errors.ts';
import type { AlertingRuntime } from '../runtime.ts';
import { deleteSilence, insertSilence, listSilences } from '../store/silences.ts';
import { silenceViewSchema } from './schemas.ts';

export async function silenceRoutes(app: FastifyInstance, opts: { runtime: AlertingRuntime }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pool, engine } = opts.runtime;
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
    async (req) => {
      const items = await listSilences(pool, { activeAt: req.query.activeAt, includeDeleted: req.query.includeDeleted });
      const domains = req.identity!.domains;
      if (domains === 'all') return { items };
      const devices = await req.deviceScope();
      return { items: items.filter((s) => scopeVisible(s.scope, domains, devices)) };
    },
  );
  r.post(
    '/silences',
    { config: { access: 'operate' }, schema: { tags: ['silences'], summary: 'Create a silence (scope, time range, reason, author)', body: silenceInputSchema, response: { 201: silenceViewSchema, 400: errorSchema, 403: errorSchema } } },
    async (req, reply) => {
      if (!scopeWithin(req.body.scope, req.identity!.domains)) {
        throw new VigieError('VIGIE_ERR_FORBIDDEN', 'this identity may only silence inside its domains (scope.domain, and its routes or buildings)', { statusCode: 403 });
      }
      const s = await insertSilence(pool, req.body);
      await engine.refreshSilences();
      reply.status(201);
      return s;
    },
  );
  r.delete(
    '/silences/:id',
    { config: { access: 'operate' }, schema: { tags: ['silences'], summary: 'End a silence now (the record is kept)', params: z.object({ id: z.string().regex(/^\d{1,18}$/, 'silence ids are numbers') }), response: { 204: z.null(), 400: errorSchema, 404: errorSchema } } },
    async (req, reply) => {
      if (req.identity!.domains !== 'all') {
        const all = await listSilences(pool, { includeDeleted: true });
        const s = all.find((x) => x.id === req.params.id);
        if (!s || !scopeWithin(s.scope, req.identity!.domains)) throw notFound(`no silence ${req.params.id}`);
      }
      if (!(await deleteSilence(pool, req.params.id))) throw notFound(`no silence ${req.params.id}`);
      await engine.refreshSilences();
      reply.status(204);
      return null;
    },
  );
}
