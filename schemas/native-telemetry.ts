/**
 * Vigie's native wire format, for devices that can be configured: JSON published at QoS 1 on
 * `vigie/<deviceId>/telemetry`. The envelope is validated strictly; each metric is then
 * checked on its own so one bad metric does not cost the good ones.
 *
 * Besides per-period values (`metrics`, `channels`), a traffic counting station can send the two
 * inputs a true V85 needs (services/timeseries/traffic.ts): individual vehicle records
 * (`vehicles`) and light-vehicle counts per speed class (`speedClasses`). Both are keyed so two
 * vehicles or two classes never share the store's (device, metric, channel, time) key: a vehicle
 * is its lane and its passage time at millisecond resolution (two vehicles cannot cross one
 * lane's detector in the same millisecond: a car occupies a loop for well over 100 ms), a class
 * is its lane and its bounds (`lane1:90-110`, open top `lane1:130+`).
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

const timeSchema = z.union([z.string().min(1).max(64), z.number()]);

/** One vehicle crossing the station: passage time, speed, and what V85 needs to select it. */
export const vehicleRecordSchema = z
  .object({
    /** Passage time: ISO 8601 with zone, or epoch milliseconds. Millisecond resolution. */
    t: timeSchema,
    /** km/h. */
    speed: z.unknown(),
    /** Seconds since the previous vehicle of the same lane passed (front to front). */
    headway: z.unknown().optional(),
    /** Heavy vehicle (PL, > 3.5 t) as classified by the station. */
    heavy: z.boolean().optional(),
  })
  .strict();
export type VehicleRecord = z.infer<typeof vehicleRecordSchema>;

/**
 * Light vehicles (VL) of one lane counted per speed class over the period of `ts`: class i is
 * [bounds[i], bounds[i+1]) km/h, the last class is [bounds[n-1], +inf).
 */
export const speedClassesSchema = z
  .object({
    bounds: z.array(z.number().finite().min(0).max(300)).min(1).max(64),
    counts: z.array(z.unknown()).min(1).max(64),
  })
  .strict()
  .refine((c) => c.counts.length === c.bounds.length, { message: 'counts needs one number per class, as many as bounds (the last class is open-ended)', path: ['counts'] })
  .refine((c) => c.bounds.every((b, i) => i === 0 || b > c.bounds[i - 1]!), { message: 'bounds must be strictly increasing', path: ['bounds'] });
export type SpeedClasses = z.infer<typeof speedClassesSchema>;

/** Channel of one speed class: `<lane>:<from>-<to>`, or `<lane>:<from>+` for the open top class. */
export function speedClassChannel(lane: string, bounds: readonly number[], i: number): string {
  const next = bounds[i + 1];
  return next === undefined ? `${lane}:${bounds[i]}+` : `${lane}:${bounds[i]}-${next}`;
}

/** Inverse of speedClassChannel, for the KPI queries; null when the channel is not a class. */
export function parseSpeedClassChannel(channel: string): { lane: string; from: number; to: number | null } | null {
  const m = /^(.*):(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?)|\+)$/.exec(channel);
  if (!m) return null;
  return { lane: m[1]!, from: Number(m[2]), to: m[3] === undefined ? null : Number(m[3]) };
}

export const nativeTelemetrySchema = z
  .object({
    /** ISO 8601 string (with zone) or epoch milliseconds. Missing: receive time is used. */
    ts: timeSchema.optional(),
    metrics: metricMapSchema.optional(),
    channels: z
      .record(z.string(), metricMapSchema)
      .refine((c) => Object.keys(c).length <= MAX_CHANNELS_PER_MESSAGE, `at most ${MAX_CHANNELS_PER_MESSAGE} channels in one message`)
      .optional(),
    vehicles: z
      .record(z.string(), z.array(vehicleRecordSchema).max(10000))
      .refine((c) => Object.keys(c).length <= MAX_CHANNELS_PER_MESSAGE, `at most ${MAX_CHANNELS_PER_MESSAGE} lanes in one message`)
      .optional(),
    speedClasses: z
      .record(z.string(), speedClassesSchema)
      .refine((c) => Object.keys(c).length <= MAX_CHANNELS_PER_MESSAGE, `at most ${MAX_CHANNELS_PER_MESSAGE} lanes in one message`)
      .optional(),
  })
  .strict()
  .refine((m) => m.metrics !== undefined || m.channels !== undefined || m.vehicles !== undefined || m.speedClasses !== undefined, {
    message: 'a message needs "metrics", "channels", "vehicles" or "speedClasses"',
  })
  .refine((m) => m.speedClasses === undefined || m.ts !== undefined, {
    message: 'speedClasses count a period: "ts" is required with them',
    path: ['ts'],
  });
export type NativeTelemetry = z.infer<typeof nativeTelemetrySchema>;

const timeJsonSchema = {
  oneOf: [{ type: 'string', format: 'date-time' }, { type: 'number' }],
} as const;

/** JSON Schema of the native format, published by the API and in the README. */
export const nativeTelemetryJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://vigie.example/schemas/native-telemetry.json',
  title: 'Vigie native telemetry message',
  type: 'object',
  additionalProperties: false,
  properties: {
    ts: {
      description: 'Observation time: ISO 8601 with a zone (Z or an offset), or epoch milliseconds. Defaults to receive time.',
      ...timeJsonSchema,
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
    vehicles: {
      type: 'object',
      description:
        'Individual vehicle records per lane (stored as vehicle_speed, vehicle_headway, vehicle_heavy on the lane channel at the passage time). Two vehicles of one lane at the same millisecond are refused (duplicate_key).',
      additionalProperties: {
        type: 'array',
        maxItems: 10000,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['t', 'speed'],
          properties: {
            t: { description: 'Passage time, millisecond resolution: ISO 8601 with a zone, or epoch milliseconds.', ...timeJsonSchema },
            speed: { type: 'number', minimum: 0, description: 'km/h' },
            headway: { type: 'number', minimum: 0, description: 'Seconds since the previous vehicle of the same lane passed.' },
            heavy: { type: 'boolean', description: 'Heavy vehicle (PL, > 3.5 t) as classified by the station; false: light vehicle (VL).' },
          },
        },
      },
    },
    speedClasses: {
      type: 'object',
      description:
        'Light-vehicle (VL) counts per speed class per lane over the period of "ts" (required with them); stored as light_speed_class_count on channel <lane>:<from>-<to> (last class <lane>:<from>+).',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['bounds', 'counts'],
        properties: {
          bounds: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'number', minimum: 0, maximum: 300 }, description: 'Lower bound of each class, km/h, strictly increasing; the last class has no upper bound.' },
          counts: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'integer', minimum: 0 }, description: 'Light vehicles counted in each class (as many as bounds).' },
        },
      },
    },
  },
  anyOf: [{ required: ['metrics'] }, { required: ['channels'] }, { required: ['vehicles'] }, { required: ['speedClasses', 'ts'] }],
} as const;
