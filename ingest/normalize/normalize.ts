/**
 * One policy for every wire format: a reading becomes a canonical observation only if its
 * metric is in the catalogue, its value is a finite number inside the metric's physical
 * range, its channel and device id are well formed and its time is neither in the future
 * nor absurdly old. Otherwise it becomes a reject that names the field and what came.
 */
import {
  METRICS,
  channelSchema,
  deviceIdSchema,
  isMetricName,
  qualityMask,
  type Observation,
  type QualityFlag,
  type Reject,
} from '../../schemas/index.ts';
import type { Reading } from '../decoder.ts';
import { describe } from './timestamp.ts';

export interface NormalizePolicy {
  /** Largest accepted lead of the observed time over the receive time (clock skew). */
  maxFutureMs: number;
  /** Oldest accepted observed time, relative to the receive time. */
  maxAgeMs: number;
}

export type NormalizeResult = { ok: true; observation: Observation } | { ok: false; reject: Reject };

export function normalizeReading(reading: Reading, receivedAt: Date, policy: NormalizePolicy): NormalizeResult {
  const { deviceId, field } = reading;
  const fail = (code: Reject['code'], reason: string): NormalizeResult => ({
    ok: false,
    reject: { code, field, reason: `${field}: ${reason}`, deviceId },
  });

  if (!deviceIdSchema.safeParse(deviceId).success) {
    return fail('invalid_device_id', `device id ${JSON.stringify(deviceId.slice(0, 140))} is not valid (letters, digits, _ . - : only, 1-128 chars)`);
  }
  if (!isMetricName(reading.metric)) {
    return fail('unknown_metric', `unknown metric ${JSON.stringify(reading.metric.slice(0, 64))} (see GET /api/v1/metrics)`);
  }
  const channel = reading.channel ?? '';
  if (!channelSchema.safeParse(channel).success) {
    return fail('invalid_channel', `channel ${JSON.stringify(channel.slice(0, 80))} is not valid (letters, digits, _ . + - : only, at most 64 chars)`);
  }
  const def = METRICS[reading.metric];
  const value = reading.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return fail('invalid_value', `expected a finite number in ${def.unit}, got ${describe(value)}`);
  }
  if (value < def.min || value > def.max) {
    return fail('out_of_range', `${value} ${def.unit} is outside the physical range ${def.min}..${def.max} of ${reading.metric}`);
  }
  if ('integer' in def && def.integer && !Number.isInteger(value)) {
    return fail('invalid_value', `${reading.metric} takes whole numbers, got ${value}`);
  }

  const flags: QualityFlag[] = [...(reading.quality ?? [])];
  let time = reading.time;
  if (time === undefined) {
    time = receivedAt;
    flags.push('time_from_receipt');
  }
  if (Number.isNaN(time.getTime())) return fail('invalid_timestamp', 'the observation time is not a valid date');
  const lead = time.getTime() - receivedAt.getTime();
  if (lead > policy.maxFutureMs) {
    return fail('timestamp_in_future', `observed time ${time.toISOString()} is ${Math.round(lead / 1000)} s ahead of the receive time (limit ${policy.maxFutureMs / 1000} s)`);
  }
  if (-lead > policy.maxAgeMs) {
    return fail('timestamp_too_old', `observed time ${time.toISOString()} is older than the accepted ${Math.round(policy.maxAgeMs / 86400000)} days`);
  }
  return {
    ok: true,
    observation: { deviceId, metric: reading.metric, channel, time, receivedAt, value, quality: qualityMask(flags) },
  };
}
