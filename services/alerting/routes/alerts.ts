/** Alerts: history with filters, one alert with its timeline and deliveries, acknowledgement. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ackInputSchema, alertStateSchema, severitySchema } from '../../../schemas/alerting.ts';
import { notFound } from '../../api/errors.ts';
import { errorSchema, limitParam, listOf, listParam, timeParam } from '../../api/query-params.ts';
import { VigieError } from '../../errors.ts';
import type { AlertingRuntime } from '../runtime.ts';
import { ackAlert, getAlert, listAlerts } from '../store/alerts.ts';
import { alertViewSchema, deliverySchema, timelineEntrySchema } from './schemas.ts';

export async function alertRoutes(app: FastifyInstance, opts: { runtime: AlertingRuntime }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pool, engine } = opts.runtime;
  r.get(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alert history, newest first; from/to select alerts active at some point of the range',
        querystring: z.object({
          state: listParam.pipe(z.array(alertStateSchema)).optional(),
          severity: listParam.pipe(z.array(severitySchema)).optional(),
          domain: z.enum(['roads', 'buildings']).optional(),
          device: listParam.optional(),
          rule: listParam.optional(),
          from: timeParam.optional(),
          to: timeParam.optional(),
          cursor: z.string().regex(/^\d{1,18}$/, 'expected a cursor returned by this API').optional(),
          limit: limitParam(100, 1000),
        }),
        response: { 200: listOf(alertViewSchema), 400: errorSchema },
      },
    },
    async (req) => {
      const q = req.query;
      const items = await listAlerts(pool, { state: q.state, severity: q.severity, domain: q.domain, device: (await req.deviceScope()).restrict(q.device), rule: q.rule, from: q.from, to: q.to, before: q.cursor, limit: q.limit + 1 });
      const page = items.slice(0, q.limit);
      return { items: page, nextCursor: items.length > q.limit ? page[page.length - 1]!.id : null };
    },
  );
  r.get(
    '/alerts/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its timeline and notification deliveries',
        params: z.object({ id: z.string().regex(/^\d{1,18}$/, 'alert ids are numbers') }),
        response: { 200: z.object({ alert: alertViewSchema, timeline: z.array(timelineEntrySchema), deliveries: z.array(deliverySchema) }), 400: errorSchema, 404: errorSchema },
      },
    },
    async (req) => {
      const found = await getAlert(pool, req.params.id);
      if (!found || !(await req.deviceScope()).has(found.alert.deviceId)) throw notFound(`no alert ${req.params.id}`);
      return found;
    },
  );
  r.post(
    '/alerts/:id/ack',
    {
      config: { access: 'operate' },
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge an open alert (named user, comment); stops its escalation',
        params: z.object({ id: z.string().regex(/^\d{1,18}$/, 'alert ids are numbers') }),
        body: ackInputSchema,
        response: { 200: alertViewSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (req) => {
      const visible = await getAlert(pool, req.params.id);
      if (!visible || !(await req.deviceScope()).has(visible.alert.deviceId)) throw notFound(`no alert ${req.params.id}`);
      const out = await ackAlert(pool, req.params.id, req.body.user, req.body.comment, new Date(engine.now()));
      if (!out.ok) {
        if (out.code === 'not_found') throw notFound(`no alert ${req.params.id}`);
        throw new VigieError(
          out.code === 'resolved' ? 'VIGIE_ERR_ALERT_RESOLVED' : 'VIGIE_ERR_ALERT_ACKED',
          out.code === 'resolved' ? `alert ${req.params.id} is resolved` : `alert ${req.params.id} is already acknowledged`,
          { statusCode: 409 },
        );
      }
      engine.publish('acknowledged', out.alert);
      return out.alert;
    },
  );
}
