/**
 * Vigie native JSON (`vigie/<deviceId>/telemetry`), see schemas/native-telemetry.ts and the
 * README. Values must already be numbers in the catalogue's canonical unit.
 */
import { nativeTelemetrySchema, speedClassChannel, type NativeTelemetry, type Reject } from '../../../schemas/index.ts';
import type { Decoder, DecodeResult, Reading } from '../../decoder.ts';
import { parseJson, zodIssueReject } from '../json.ts';
import { parseTimestamp } from '../../normalize/timestamp.ts';

type TimeResult = { ok: true; time: Date } | { ok: false; reject: Reject };

/**
 * RFC 3339 date-times (the JSON Schema's `format: date-time`) carry a zone: parseTimestamp
 * refuses one without (a local time would be read in an assumed zone, and is ambiguous once a
 * year at the autumn DST change), as for every format whose standard always sends a zone.
 */
function readTime(value: string | number, field: string, deviceId: string): TimeResult {
  const parsed = parseTimestamp(value);
  if (!parsed.ok) return { ok: false, reject: { code: 'invalid_timestamp', field, reason: `${field}: ${parsed.reason}`, deviceId } };
  return { ok: true, time: parsed.time };
}

function vehicleReadings(msg: NativeTelemetry, deviceId: string, readings: Reading[], rejects: Reject[]): void {
  for (const [lane, records] of Object.entries(msg.vehicles ?? {})) {
    const seen = new Set<number>();
    records.forEach((v, i) => {
      const field = `vehicles.${lane}.${i}`;
      const at = readTime(v.t, `${field}.t`, deviceId);
      if (!at.ok) {
        rejects.push(at.reject);
        return;
      }
      const key = at.time.getTime();
      if (seen.has(key)) {
        rejects.push({
          code: 'duplicate_key',
          field: `${field}.t`,
          reason: `${field}.t: another vehicle of ${lane} in this message passed at ${at.time.toISOString()}; vehicle times need millisecond resolution (the first one is kept)`,
          deviceId,
        });
        return;
      }
      seen.add(key);
      readings.push({ deviceId, metric: 'vehicle_speed', channel: lane, time: at.time, value: v.speed, field: `${field}.speed` });
      if (v.headway !== undefined) readings.push({ deviceId, metric: 'vehicle_headway', channel: lane, time: at.time, value: v.headway, field: `${field}.headway` });
      if (v.heavy !== undefined) readings.push({ deviceId, metric: 'vehicle_heavy', channel: lane, time: at.time, value: v.heavy ? 1 : 0, field: `${field}.heavy` });
    });
  }
}

function speedClassReadings(msg: NativeTelemetry, deviceId: string, time: Date | undefined, readings: Reading[]): void {
  for (const [lane, c] of Object.entries(msg.speedClasses ?? {})) {
    c.counts.forEach((count, i) => {
      readings.push({ deviceId, metric: 'light_speed_class_count', channel: speedClassChannel(lane, c.bounds, i), time, value: count, field: `speedClasses.${lane}.counts.${i}` });
    });
  }
}

export const nativeDecoder: Decoder = {
  name: 'native',
  decode(message): DecodeResult {
    const parts = message.topic.split('/');
    const deviceId = parts.length === 3 && parts[0] === 'vigie' && parts[2] === 'telemetry' ? parts[1] : undefined;
    if (!deviceId) {
      return {
        readings: [],
        rejects: [{ code: 'invalid_topic', reason: `expected topic vigie/<deviceId>/telemetry, got ${message.topic}` }],
      };
    }
    const json = parseJson(message.payload);
    if (!json.ok) return { deviceId, readings: [], rejects: [{ ...json.reject, deviceId }] };
    const envelope = nativeTelemetrySchema.safeParse(json.value);
    if (!envelope.success) return { deviceId, readings: [], rejects: [{ ...zodIssueReject(envelope.error), deviceId }] };

    const msg = envelope.data;
    let time: Date | undefined;
    if (msg.ts !== undefined) {
      const at = readTime(msg.ts, 'ts', deviceId);
      if (!at.ok) return { deviceId, readings: [], rejects: [at.reject] };
      time = at.time;
    }
    const readings: Reading[] = [];
    const rejects: Reject[] = [];
    for (const [metric, value] of Object.entries(msg.metrics ?? {})) {
      readings.push({ deviceId, metric, channel: '', time, value, field: `metrics.${metric}` });
    }
    for (const [channel, metrics] of Object.entries(msg.channels ?? {})) {
      for (const [metric, value] of Object.entries(metrics)) {
        readings.push({ deviceId, metric, channel, time, value, field: `channels.${channel}.${metric}` });
      }
    }
    vehicleReadings(msg, deviceId, readings, rejects);
    speedClassReadings(msg, deviceId, time, readings);
    return { deviceId, readings, rejects };
  },
};
