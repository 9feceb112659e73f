/**
 * The wire-formats capability: NGSI notifications over HTTP, dead-letter replay, the list
 * of device profiles and the Sparkplug B reorder timer and counters (sparkplug.ts). The
 * decoders themselves run in the ingest path (ingest/decoders/).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NGSI_HTTP_TOPIC } from '../../ingest/decoders/ngsi/index.ts';
import { profileKeySchema } from '../../schemas/index.ts';
import { badRequest } from '../api/errors.ts';
import { errorSchema } from '../api/query-params.ts';
import { deadLetterFilterSchema } from '../api/routes/dead-letters.ts';
import type { ModuleFactory } from '../platform-module.ts';
import { replayDeadLetters } from './replay.ts';
import { startSparkplugSupport } from './sparkplug.ts';

const intakeResultSchema = z.object({ observations: z.number(), deadLetters: z.number() });

export const formatsModule: ModuleFactory = async (ctx) => {
  const { pool, ingest, config } = ctx;
  const stopSparkplug = startSparkplugSupport({
    ingest,
    logger: ctx.logger,
    decoderOptions: config.formats.decoderOptions['sparkplug-b'] ?? {},
    deadLetterMaxBytes: config.ingest.deadLetterMaxBytes,
    registry: ctx.telemetry.registry,
  });
  return {
    name: 'formats',
    async stop() {
      stopSparkplug();
    },
    async routes(app: FastifyInstance) {
      const r = app.withTypeProvider<ZodTypeProvider>();
      await app.register(async (ngsi) => {
        // The body goes to the decoder as bytes, exactly as it came (dead letters keep it raw).
        ngsi.removeContentTypeParser(['application/json']);
        ngsi.addContentTypeParser(['application/json', 'application/ld+json'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
        ngsi.withTypeProvider<ZodTypeProvider>().post(
          '/ngsi/notify',
          {
            config: { access: 'publish' },
            // Over VIGIE_MAX_PAYLOAD_BYTES the notification is refused with 413 before its body
            // is read, so the partner knows it was not taken (a truncated dead letter could not
            // be replayed, and a 200 would stop the partner from retrying).
            bodyLimit: config.ingest.maxPayloadBytes,
            schema: {
              tags: ['wire formats'],
              summary: 'Orion (NGSI-v2) or NGSI-LD subscription notification: the entities in `data` are ingested',
              description: 'Answers once the notification is committed: its observations stored and its rejections dead-lettered (topic http/ngsi/notify).',
              response: { 200: intakeResultSchema, 400: errorSchema, 413: errorSchema },
            },
          },
          async (req) => {
            if (!Buffer.isBuffer(req.body)) throw badRequest('expected a JSON body (Content-Type: application/json or application/ld+json)');
            const processed = await ingest.submit({ topic: NGSI_HTTP_TOPIC, payload: req.body, receivedAt: new Date() });
            return { observations: processed.observations.length, deadLetters: processed.deadLetters.length };
          },
        );
      });

      r.post(
        '/api/v1/dead-letters/replay',
        {
          config: { access: 'engineer' },
          schema: {
            tags: ['dead letters'],
            summary: 'Re-run dead letters through the current decoders, profiles and routes',
            description:
              'Selects dead letters not replayed yet, by ids or by the same filters as GET /api/v1/dead-letters, re-runs each message once and reports how many were stored and how many failed again. A stored one is marked replayed and never replayed again; observations are idempotent, so nothing is stored twice.',
            body: deadLetterFilterSchema
              .omit({ status: true })
              .extend({
                ids: z.array(z.number().int().positive()).min(1).max(100_000).optional(),
                limit: z.number().int().min(1).max(config.formats.replayMax).default(config.formats.replayMax),
              })
              .strict(),
            response: {
              200: z.object({
                selected: z.number(),
                messages: z.number(),
                stored: z.number(),
                failed: z.number(),
                skipped: z.number(),
                observations: z.number(),
                resolved: z.number(),
              }),
              400: errorSchema,
              409: errorSchema,
            },
          },
        },
        async (req) => {
          const { ids, limit, ...filter } = req.body;
          return replayDeadLetters(pool, ingest, { ids, filter: { ...filter, devices: (await req.deviceScope()).restrict() }, limit });
        },
      );

      r.get(
        '/api/v1/profiles',
        {
          schema: {
            tags: ['wire formats'],
            summary: 'Device profiles in use: payload keys to catalogue metrics',
            response: {
              200: z.object({
                items: z.array(
                  z.object({
                    name: z.string(),
                    description: z.string().nullable(),
                    keys: z.record(z.string(), profileKeySchema),
                    ignore: z.array(z.string()),
                    /** SenML units the model misuses, to the registry unit they mean (RFC 8428 §12.1). */
                    senmlUnits: z.record(z.string(), z.string()),
                  }),
                ),
              }),
            },
          },
        },
        async () => ({
          items: [...ingest.profiles.values()].map((p) => ({ name: p.name, description: p.description ?? null, keys: p.keys, ignore: p.ignore, senmlUnits: p.senmlUnits ?? {} })),
        }),
      );
    },
  };
};
