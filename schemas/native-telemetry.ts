/**
 * Vigie's native wire format, for devices that can be configured: JSON published at QoS 1 on
 * `vigie/<deviceId>/telemetry`. The envelope is validated strictly; each metric is then
 * checked on its own so one bad metric does not cost the good ones.
 */
import { z } from 'zod';

export const NATIVE_TOPIC_PATTERN = 'vigie/+/telemetry';

/** Values are left `unknown` here: the normalizer checks each one and names the field. */
const metricMapSchema = z.record(z.string(), z.unknown());

/**
 * Channels in one message, at most: a counting station has a few lanes and directions, a
 * building gateway a few dozen zones. The bound keeps what one message costs the evaluation of
 * every rule proportionate, whatever a client sends.
 */
export const MAX_CHANNELS_PER_MESSAGE = 256;

export const nativeTelemetrySchema = z
  .object({
    /** ISO 8601 string (with zone) or epoch milliseconds. Missing: receive time is used. */
    ts: z.union([z.string().min(1).max(64), z.number()]).optional(),
    metrics: metricMapSchema.optional(),
    channels: z
      .record(z.string(), metricMapSchema)
      .refine((c) => Object.keys(c).length <= MAX_CHANNELS_PER_MESSAGE, `at most ${MAX_CHANNELS_PER_MESSAGE} channels in one message`)
      .optional(),
  })
  .strict()
  .refine((m) => m.metrics !== undefined || m.channels !== undefined, {
    message: 'a message needs "metrics" or "channels"',
  });
export type NativeTelemetry = z.infer<typeof nativeTelemetrySchema>;

/** JSON Schema of the native format, published by the API and in the README. */
export const nativeTelemetryJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://vigie.example/schemas/native-telemetry.json',
  title: 'Vigie native telemetry message',
  type: 'object',
  additionalProperties: false,
  properties: {
    ts: {
      description: 'Observation time: ISO 8601 with zone, or epoch milliseconds. Defaults to receive time.',
      oneOf: [{ type: 'string', format: 'date-time' }, { type: 'number' }],
    },
    metrics: {
      type: 'object',
      description: 'Device-level metrics: metric name to number in the canonical unit.',
      additionalProperties: { type: 'number' },
    },
    channels: {
      type: 'object',
      description: 'Per-channel metrics (lane, direction, zone): channel to metric map.',
      maxProperties: 256,
      additionalProperties: { type: 'object', additionalProperties: { type: 'number' } },
    },
  },
  anyOf: [{ required: ['metrics'] }, { required: ['channels'] }],
} as const;
