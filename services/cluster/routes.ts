/** `GET /api/v1/cluster`: this process's role, who holds each singleton, how far the consumers are. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { roleHolders, type LeaseManager } from './leases.ts';
import type { ProcessRole } from './roles.ts';

export function clusterRoutes(env: { pool: pg.Pool; leases: LeaseManager; role: ProcessRole }) {
  return async (app: FastifyInstance): Promise<void> => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/cluster',
      {
        // Host names and process ids of the deployment: for its operators.
        config: { access: 'admin' },
        schema: {
          tags: ['health'],
          summary: 'Scaling out: this process, the holder of each singleton role, the commit feed and its consumers',
          response: {
            200: z.object({
              member: z.string(),
              role: z.string(),
              singletons: z.array(z.object({ role: z.string(), member: z.string().nullable(), here: z.boolean() })),
              feed: z.object({ last: z.number(), consumers: z.array(z.object({ name: z.string(), seq: z.number(), behind: z.number() })) }),
              pendingNotifications: z.number(),
            }),
          },
        },
      },
      async () => {
        const holders = await roleHolders(env.pool);
        const last = Number((await env.pool.query(`select coalesce(max(seq), 0) as s from commit_log`)).rows[0].s);
        const consumers = (await env.pool.query(`select name, seq from commit_consumers where name not like '#%' order by name`)).rows;
        const pending = (await env.pool.query(`select count(*)::int as n from alert_outbox where delivered_at is null and given_up_at is null`)).rows[0].n as number;
        return {
          member: env.leases.member,
          role: env.role,
          singletons: holders.map((h) => ({ ...h, here: h.member === env.leases.member })),
          feed: { last, consumers: consumers.map((c) => ({ name: c.name as string, seq: Number(c.seq), behind: Math.max(0, last - Number(c.seq)) })) },
          pendingNotifications: pending,
        };
      },
    );
  };
}
