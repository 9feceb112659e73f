/** `GET /api/v1/export`: CSV or NDJSON, raw or aggregated, streamed (chunked) from a cursor. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { badRequest } from '../../api/errors.ts';
import { listParam } from '../../api/query-params.ts';
import { parseBucket } from '../buckets.ts';
import { estimateRows, streamExport, type ExportRequest } from '../export.ts';
import { AGGREGATE_RE, type SeriesEnv } from '../series.ts';
import { checkPeriod, requiredTime, tzParam } from './params.ts';
import { METRIC_NAMES } from '../../../schemas/index.ts';

export function exportRoutes(env: SeriesEnv) {
  return async (app: FastifyInstance): Promise<void> => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      '/api/v1/export',
      {
        schema: {
          tags: ['time series'],
          summary: 'Export raw observations or bucketed aggregates as CSV or NDJSON, streamed with chunked transfer (X-Vigie-Estimated-Rows gives a total for progress)',
          querystring: z.object({
            format: z.enum(['csv', 'ndjson']).default('csv'),
            device: listParam.optional(),
            metric: listParam.refine((ms) => ms.every((m) => (METRIC_NAMES as string[]).includes(m)), 'unknown metric (see GET /api/v1/metrics)').optional(),
            channel: z.string().max(64).optional(),
            from: requiredTime,
            to: requiredTime,
            bucket: z.string().max(8).optional(),
            agg: listParam.refine((as) => as.length > 0 && as.every((a) => AGGREGATE_RE.test(a)), 'aggregates: avg, min, max, sum, count, last or pNN').optional(),
            tz: tzParam,
          }),
        },
      },
      async (req, reply) => {
        const q = req.query;
        const bad = checkPeriod(q.from, q.to);
        if (bad) throw badRequest(bad, 'from');
        if (q.agg && !q.bucket) throw badRequest('querystring.bucket: aggregates need a bucket', 'bucket');
        // An empty list means every device here: a scoped caller always gets an explicit one.
        const devices = (await req.deviceScope()).restrictList(q.device ?? []);
        const exp: ExportRequest = {
          format: q.format,
          devices,
          metrics: q.metric ?? [],
          channel: q.channel,
          from: q.from,
          to: q.to,
          series: q.bucket
            ? {
                devices,
                metrics: q.metric ?? [],
                channel: q.channel,
                from: q.from,
                to: q.to,
                bucket: parseBucket(q.bucket),
                aggregates: [...new Set(q.agg ?? ['avg'])],
                tz: q.tz,
                fill: 'none',
              }
            : undefined,
        };
        const estimate = await estimateRows(env.pool, env.timescale, exp);
        reply.hijack();
        const out = reply.raw;
        out.writeHead(200, {
          'content-type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
          'content-disposition': `attachment; filename="vigie-export.${q.format === 'csv' ? 'csv' : 'ndjson'}"`,
          'x-vigie-estimated-rows': String(estimate),
          'cache-control': 'no-store',
        });
        try {
          const rows = await streamExport(env.pool, env.timescale, exp, out);
          req.log.debug({ rows }, 'export finished');
          out.end();
        } catch (err) {
          // Headers are gone: the only honest signal left is a truncated chunked body. Destroy
          // without an error: an 'error' event on the response has no listener and would end
          // the process.
          req.log.error({ err }, 'export failed mid-stream');
          out.destroy();
        }
      },
    );
  };
}
