/** Dead letters: what was rejected, why, and the raw payload (truncated at VIGIE_DEAD_LETTER_MAX_BYTES). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import { REJECT_CODES } from '../../../schemas/index.ts';
import { queryDeadLetters } from '../../store/dead-letters.ts';
import { errorSchema, limitParam, listOf, timeParam } from '../query-params.ts';

export const deadLetterItemSchema = z.object({
  id: z.number(),
  receivedAt: z.string(),
  firstReceived: z.string(),
  occurrences: z.number(),
  topic: z.string(),
  decoder: z.string().nullable(),
  deviceId: z.string().nullable(),
  code: z.string(),
  reason: z.string(),
  field: z.string().nullable(),
  payload: z.string(),
  payloadEncoding: z.enum(['utf8', 'base64']),
  payloadSize: z.number(),
  truncated: z.boolean(),
  replayedAt: z.string().nullable(),
  replayAttempts: z.number(),
});

/** Selection shared by the listing and the replay. */
export const deadLetterFilterSchema = z.object({
  from: timeParam.optional(),
  to: timeParam.optional(),
  topic: z.string().max(1024).optional(),
  device: z.string().max(128).optional(),
  decoder: z.string().max(64).optional(),
  code: z.enum(REJECT_CODES).optional(),
  reason: z.string().min(1).max(200).optional().describe('case-insensitive substring of the reason'),
  status: z.enum(['open', 'replayed', 'all']).default('all'),
});

export async function deadLetterRoutes(app: FastifyInstance, opts: { pool: pg.Pool }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/dead-letters',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'Rejected messages, newest first',
        querystring: deadLetterFilterSchema.extend({
          limit: limitParam(100, 1000),
          cursor: z.string().regex(/^\d{1,18}$/, 'expected a cursor returned by this API').optional(),
        }),
        response: { 200: listOf(deadLetterItemSchema), 400: errorSchema },
      },
    },
    async (req) => {
      const q = req.query;
      return queryDeadLetters(opts.pool, {
        from: q.from,
        to: q.to,
        topic: q.topic,
        device: q.device,
        decoder: q.decoder,
        code: q.code,
        reason: q.reason,
        status: q.status,
        devices: (await req.deviceScope()).restrict(),
        before: q.cursor ? Number(q.cursor) : undefined,
        limit: q.limit,
      });
    },
  );
}
