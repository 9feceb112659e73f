/**
 * Device profiles: how one device model's payload keys map to catalogue metrics. LoRaWAN
 * payload formatters, SenML names and Sparkplug metric names differ per vendor (`temperature`,
 * `temp`, `TempC`, `co2`, `CO2`...); a profile says which metric each key is, in which unit it
 * comes, and which raw values are sentinels meaning "missing" (NTCIP 1204 raw codes such as
 * 1001 for a missing temperature; see the built-in `ingest/profiles/road-surface.yaml`).
 * Profiles are data files (`ingest/profiles/*.yaml`); this is their schema.
 */
import { z } from 'zod';
import { channelSchema } from './observation.ts';
import { metricNameSchema } from './metrics.ts';

export const profileKeySchema = z
  .object({
    metric: metricNameSchema,
    /** Unit the key arrives in (see ingest/normalize/units.ts); default: the metric's canonical unit. */
    unit: z.string().max(32).optional(),
    /** Multiplier applied to the raw value before the unit conversion (e.g. 0.1 for tenths). */
    scale: z.number().finite().optional(),
    /** Added after scaling, before the unit conversion. */
    offset: z.number().finite().optional(),
    channel: channelSchema.optional(),
    /** Raw values meaning "no reading" (NTCIP 1001, 65535, 255, -1...): dropped, never stored. */
    sentinels: z.array(z.number()).optional(),
    /** Any non-zero value becomes 1 (a PIR motion count over the uplink period -> occupied). */
    binary: z.boolean().optional(),
  })
  .strict();
export type ProfileKey = z.infer<typeof profileKeySchema>;

export const profileNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'profile names are lower-case letters, digits and . _ -');

export const deviceProfileSchema = z
  .object({
    name: profileNameSchema,
    description: z.string().max(500).optional(),
    /** Payload key (dotted path for nested objects) to its metric. Keys match case-sensitively first, then case-insensitively. */
    keys: z.record(z.string().min(1).max(128), profileKeySchema),
    /** Keys known to carry no telemetry (counters of the radio stack, firmware version...): dropped without a report. */
    ignore: z.array(z.string().min(1).max(128)).default([]),
    /**
     * SenML unit names this device model misuses, to the SenML registry unit it really means:
     * `{ '%': '/100' }` for a device sending percentages as `%`, which RFC 8428 §12.1 Note 2
     * defines as the ratio `/` (0-1). A unit named here is trusted even when it is a secondary
     * unit in a pack without the Secondary Units feature (RFC 9100 §4).
     */
    senmlUnits: z.record(z.string().min(1).max(32), z.string().min(1).max(32)).optional(),
  })
  .strict();
export type DeviceProfile = z.infer<typeof deviceProfileSchema>;

/** The profile used for a device with none in the registry. */
export const DEFAULT_PROFILE = 'default';
