/**
 * The canonical observation every decoder produces and every sink stores.
 */
import { z } from 'zod';
import { metricNameSchema } from './metrics.ts';

/**
 * Quality flags, stored as a bitmask (smallint). Flags describe how the value was obtained,
 * so a consumer can tell a measured value from one Vigie had to interpret.
 */
export const QUALITY_FLAGS = {
  /** Value converted from another unit (kelvin, fraction, metres...) by the decoder. */
  converted: 1,
  /** Number arrived as a string and was parsed. */
  parsed_string: 2,
  /** Observation time was missing in the payload; the receive time was used. */
  time_from_receipt: 4,
  /** Value is plausible but the device flagged it as uncertain or estimated. */
  uncertain: 8,
} as const;
export type QualityFlag = keyof typeof QUALITY_FLAGS;

export function qualityMask(flags: readonly QualityFlag[]): number {
  let mask = 0;
  for (const f of flags) mask |= QUALITY_FLAGS[f];
  return mask;
}

export function qualityFlags(mask: number): QualityFlag[] {
  return (Object.keys(QUALITY_FLAGS) as QualityFlag[]).filter((f) => (mask & QUALITY_FLAGS[f]) !== 0);
}

/** Channel: empty for device-level metrics, else a lane, direction or zone such as `lane1`, `dir+`. */
export const channelSchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_.+\-:]*$/, 'channel may hold letters, digits and _ . + - : only');

export const deviceIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.\-:]+$/, 'device id may hold letters, digits and _ . - : only');

export const observationSchema = z.object({
  deviceId: deviceIdSchema,
  metric: metricNameSchema,
  channel: channelSchema,
  /** Observed time (device clock), UTC. */
  time: z.date(),
  /** When Vigie received the message, UTC. */
  receivedAt: z.date(),
  value: z.number().finite(),
  quality: z.number().int().min(0).max(32767),
});
export type Observation = z.infer<typeof observationSchema>;
