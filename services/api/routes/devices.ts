/** Devices: the registry plus every device heard from, and their latest values. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { getDevice, listDevices } from '../../store/devices.ts';
import { latestForDevice } from '../../store/observations.ts';
import { notFound } from '../errors.ts';
import { errorSchema, limitParam, listOf } from '../query-params.ts';
import { observationItemSchema } from './observations.ts';

export const deviceItemSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  kind: z.string().nullable(),
  domain: z.string().nullable(),
  registered: z.boolean(),
  position: z.object({ lat: z.number(), lon: z.number() }).nullable(),
  site: z.string().nullable(),
  road: z.unknown(),
  building: z.unknown(),
  profile: z.string().nullable(),
  periodSeconds: z.number().nullable(),
  tags: z.record(z.string(), z.string()),
  firstSeen: z.string().nullable(),
  lastSeen: z.string().nullable(),
  online: z.boolean().nullable().describe('Presence from the wire format (Sparkplug B BIRTH/DEATH); null when it says nothing'),
  statusChangedAt: z.string().nullable(),
  statusReason: z.string().nullable(),
});

export async function deviceRoutes(app: FastifyInstance, opts: { pool: pg.Pool }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'List devices (registered and unregistered), by id',
        querystring: z.object({
          domain: z.enum(['roads', 'buildings']).optional(),
          kind: z.string().max(64).optional(),
          registered: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
          cursor: z.string().max(256).optional(),
          limit: limitParam(100, 1000),
        }),
        response: { 200: listOf(deviceItemSchema), 400: errorSchema },
      },
    },
    async (req) => {
      const q = req.query;
      const scope = await req.deviceScope();
      const items = await listDevices(opts.pool, { domain: q.domain, kind: q.kind, registered: q.registered, after: q.cursor, ids: scope.restrict(), limit: q.limit + 1 });
      const page = items.slice(0, q.limit);
      return { items: page, nextCursor: items.length > q.limit ? page[page.length - 1]!.id : null };
    },
  );
  r.get(
    '/devices/:id',
    { schema: { tags: ['devices'], summary: 'One device', params: z.object({ id: z.string().max(128) }), response: { 200: deviceItemSchema, 404: errorSchema } } },
    async (req) => {
      const device = (await req.deviceScope()).has(req.params.id) ? await getDevice(opts.pool, req.params.id) : null;
      if (!device) throw notFound(`no device ${req.params.id}`);
      return device;
    },
  );
  r.get(
    '/devices/:id/latest',
    {
      schema: {
        tags: ['devices'],
        summary: 'Latest value per metric and channel',
        params: z.object({ id: z.string().max(128) }),
        response: { 200: z.object({ deviceId: z.string(), items: z.array(observationItemSchema) }), 404: errorSchema },
      },
    },
    async (req) => {
      if (!(await req.deviceScope()).has(req.params.id)) throw notFound(`no device ${req.params.id}`);
      const items = await latestForDevice(opts.pool, req.params.id);
      if (items.length === 0 && !(await getDevice(opts.pool, req.params.id))) throw notFound(`no device ${req.params.id}`);
      return { deviceId: req.params.id, items };
    },
  );
}
