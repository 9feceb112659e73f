/**
 * The Things Stack v3 uplinks, MQTT integration topic `v3/{app}[@{tenant}]/devices/{device}/up`
 * (TTS docs, "MQTT Server" and "Data Formats / Uplink messages"). See README.md here.
 */
import { z } from 'zod';
import type { Reject } from '../../../schemas/index.ts';
import type { DecodeContext, Decoder, DecodeResult, InboundMessage, Reading } from '../../decoder.ts';
import { parseTimestamp } from '../../normalize/timestamp.ts';
import { mapKeys, profilesFor } from '../../profiles/map-keys.ts';
import { parseJson } from '../json.ts';
import { formatterOutput, isObject, linkQuality } from '../lorawan.ts';

export const ttnV3OptionsSchema = z
  .object({
    /** Which id names the device in Vigie: TTS `device_id` (unique per application) or the `dev_eui`. */
    deviceId: z.enum(['device_id', 'dev_eui']).default('device_id'),
  })
  .strict();
export type TtnV3Options = z.input<typeof ttnV3OptionsSchema>;

export const TTN_V3_TOPIC = 'v3/+/devices/+/up';
/** The TTS topic, possibly under a bridge prefix; other topics routed here (VIGIE_ROUTES) name the device in the payload. */
const TOPIC = /(?:^|\/)v3\/([^/]+)\/devices\/([^/]+)\/up$/;

export function createTtnV3Decoder(options: TtnV3Options = {}): Decoder {
  const o = ttnV3OptionsSchema.parse(options);
  return { name: 'ttn-v3', decode: (message, context) => decode(message, context, o.deviceId) };
}

function decode(message: InboundMessage, context: DecodeContext, idField: 'device_id' | 'dev_eui'): DecodeResult {
  const topicDevice = TOPIC.exec(message.topic)?.[2];
  const json = parseJson(message.payload);
  if (!json.ok) return reject({ ...json.reject, deviceId: topicDevice }, topicDevice);
  const up = json.value;
  if (!isObject(up)) return reject({ code: 'invalid_envelope', reason: 'expected a JSON object (a TTS ApplicationUp message)', deviceId: topicDevice }, topicDevice);
  const ids = isObject(up.end_device_ids) ? up.end_device_ids : {};
  const chosen = idField === 'dev_eui' ? ids.dev_eui : ids.device_id;
  const deviceId = typeof chosen === 'string' && chosen ? (idField === 'dev_eui' ? chosen.toLowerCase() : chosen) : topicDevice;
  if (!deviceId) {
    return reject({ code: 'invalid_envelope', field: `end_device_ids.${idField}`, reason: `end_device_ids.${idField}: absent, and topic ${message.topic} is not v3/{application}[@{tenant}]/devices/{device}/up` });
  }
  const uplink = up.uplink_message;
  if (!isObject(uplink)) {
    return reject({ code: 'invalid_envelope', field: 'uplink_message', reason: 'uplink_message: expected an object (this decoder takes /up messages)', deviceId }, deviceId);
  }

  // Observed time: when the network server received the frame (uplink_message.received_at);
  // the top-level received_at is when the application server forwarded it, later by the
  // processing delay. Both are nanosecond ISO strings.
  const rejects: Reject[] = [];
  let time: Date | undefined;
  for (const field of ['uplink_message.received_at', 'received_at'] as const) {
    const raw = field === 'received_at' ? up.received_at : uplink.received_at;
    if (raw === undefined) continue;
    const parsed = parseTimestamp(raw);
    if (parsed.ok) {
      time = parsed.time;
      break;
    }
    rejects.push({ code: 'invalid_timestamp', field, reason: `${field}: ${parsed.reason}`, deviceId });
  }
  if (rejects.length > 0 && !time) return { deviceId, readings: [], rejects };

  const readings: Reading[] = linkQuality(uplink.rx_metadata, deviceId, 'uplink_message.rx_metadata', time);
  const battery = lastBattery(uplink.last_battery_percentage, deviceId);
  if (battery && 'code' in battery) rejects.push(battery);
  else if (battery) readings.push(battery);

  const out = formatterOutput({
    decoded: uplink.decoded_payload,
    fPort: uplink.f_port,
    raw: uplink.frm_payload,
    field: 'uplink_message.decoded_payload',
    portName: 'f_port',
    rawName: 'frm_payload',
    fix: 'set an uplink payload formatter for this device or application in The Things Stack',
    deviceId,
    time,
  });
  if (out.reject) rejects.push(out.reject);
  const entries = out.entries;
  const mapped = mapKeys(deviceId, entries, profilesFor(context, deviceId));
  return { deviceId, readings: [...readings, ...mapped.readings], rejects: [...rejects, ...mapped.rejects] };
}

/**
 * The battery level the network server learnt from the last DevStatusAns (LoRaWAN 1.0.x §5.5),
 * `uplink_message.last_battery_percentage` {f_cnt, value, received_at} (TTS API
 * ttn.lorawan.v3.LastBatteryPercentage: "Received via the DevStatus MAC command at
 * last_dev_status_received_at or earlier"). TTS repeats it on every uplink until the next
 * DevStatusAns, so it is dated by its own `received_at`, not the uplink's: every repeat is the
 * same observation (same key, stored once), never a new reading.
 */
function lastBattery(raw: unknown, deviceId: string): Reading | Reject | undefined {
  if (!isObject(raw) || raw.value === undefined || raw.value === null) return undefined;
  const field = 'uplink_message.last_battery_percentage.received_at';
  const at = raw.received_at === undefined ? undefined : parseTimestamp(raw.received_at);
  if (!at?.ok) {
    return { code: 'invalid_timestamp', field, deviceId, reason: `${field}: ${at ? at.reason : 'absent'}; the battery level (DevStatusAns) is not dated with the uplink's time` };
  }
  return { deviceId, metric: 'battery', channel: '', time: at.time, value: raw.value, field: 'uplink_message.last_battery_percentage.value' };
}

function reject(r: Reject, deviceId?: string): DecodeResult {
  return { deviceId, readings: [], rejects: [r] };
}
