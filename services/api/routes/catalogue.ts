/** The metric catalogue and the native wire format's JSON Schema. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { METRICS, nativeTelemetryJsonSchema } from '../../../schemas/index.ts';

export async function catalogueRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/metrics',
    {
      schema: {
        tags: ['catalogue'],
        summary: 'Metric catalogue: canonical unit and physical range of every metric',
        response: {
          200: z.object({
            items: z.array(z.object({ name: z.string(), unit: z.string(), description: z.string(), domain: z.string(), min: z.number(), max: z.number(), cumulative: z.boolean() })),
          }),
        },
      },
    },
    async () => ({
      items: Object.entries(METRICS).map(([name, d]) => ({
        name,
        unit: d.unit,
        description: d.description,
        domain: d.domain,
        min: d.min,
        max: d.max,
        cumulative: 'cumulative' in d && d.cumulative === true,
      })),
    }),
  );
  app.get('/schemas/native-telemetry.json', { schema: { tags: ['catalogue'], summary: 'JSON Schema of the native telemetry format' } }, async () => nativeTelemetryJsonSchema);
}
