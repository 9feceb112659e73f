/**
 * Vigie native JSON (`vigie/<deviceId>/telemetry`), see schemas/native-telemetry.ts and the
 * README. Values must already be numbers in the catalogue's canonical unit.
 */
import { nativeTelemetrySchema } from '../../../schemas/index.ts';
import type { Decoder, DecodeResult, Reading } from '../../decoder.ts';
import { parseJson, zodIssueReject } from '../json.ts';
import { parseTimestamp } from '../../normalize/timestamp.ts';

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
      const parsed = parseTimestamp(msg.ts);
      if (!parsed.ok) {
        return { deviceId, readings: [], rejects: [{ code: 'invalid_timestamp', field: 'ts', reason: `ts: ${parsed.reason}`, deviceId }] };
      }
      time = parsed.time;
    }
    const readings: Reading[] = [];
    for (const [metric, value] of Object.entries(msg.metrics ?? {})) {
      readings.push({ deviceId, metric, channel: '', time, value, field: `metrics.${metric}` });
    }
    for (const [channel, metrics] of Object.entries(msg.channels ?? {})) {
      for (const [metric, value] of Object.entries(metrics)) {
        readings.push({ deviceId, metric, channel, time, value, field: `channels.${channel}.${metric}` });
      }
    }
    return { deviceId, readings, rejects: [] };
  },
};
