/** Orchestrator endpoints: liveness, readiness, Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.ts';

export async function healthRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/health', { schema: { tags: ['operations'], summary: 'Process is up', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));
  r.get(
    '/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'Database and broker connected',
        response: { 200: z.object({ ready: z.boolean(), checks: z.record(z.string(), z.boolean()) }), 503: z.object({ ready: z.boolean(), checks: z.record(z.string(), z.boolean()) }) },
      },
    },
    async (_req, reply) => {
      const checks = await deps.readiness();
      const ready = Object.values(checks).every(Boolean);
      return reply.status(ready ? 200 : 503).send({ ready, checks });
    },
  );
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.header('content-type', deps.metricsRegistry.contentType);
    return deps.metricsRegistry.metrics();
  });
}
