/**
 * ChirpStack v4 integration events, topics `application/{applicationId}/device/{devEui}/event/{up|status}`
 * (ChirpStack docs, "Integrations / MQTT" and "Event types"). See README.md here.
 */
import { z } from 'zod';
import type { Reject } from '../../../schemas/index.ts';
import type { DecodeContext, Decoder, DecodeResult, DeviceInfo, InboundMessage, Reading } from '../../decoder.ts';
import { parseTimestamp } from '../../normalize/timestamp.ts';
import { mapKeys, profilesFor } from '../../profiles/map-keys.ts';
import { parseJson } from '../json.ts';
import { formatterOutput, isObject, linkQuality, type Json } from '../lorawan.ts';

export const chirpstackV4OptionsSchema = z
  .object({
    /** Device id in Vigie: the DevEUI (unique, lower-case hex) or ChirpStack's deviceName. */
    deviceId: z.enum(['devEui', 'deviceName']).default('devEui'),
    /** Device tag naming the Vigie profile when the registry names none. */
    profileTag: z.string().default('profile'),
  })
  .strict();
export type ChirpstackV4Options = z.input<typeof chirpstackV4OptionsSchema>;

export const CHIRPSTACK_V4_TOPICS = ['application/+/device/+/event/up', 'application/+/device/+/event/status'];
/** The ChirpStack topic, possibly under a bridge prefix; on other routed topics the last level says the event and the payload the device. */
const TOPIC = /(?:^|\/)application\/([^/]+)\/device\/([^/]+)\/event\/(up|status)$/;

export function createChirpstackV4Decoder(options: ChirpstackV4Options = {}): Decoder {
  const o = chirpstackV4OptionsSchema.parse(options);
  return { name: 'chirpstack-v4', decode: (message, context) => decode(message, context, o) };
}

function decode(message: InboundMessage, context: DecodeContext, o: z.infer<typeof chirpstackV4OptionsSchema>): DecodeResult {
  const m = TOPIC.exec(message.topic);
  const event = m?.[3] ?? message.topic.slice(message.topic.lastIndexOf('/') + 1);
  if (event !== 'up' && event !== 'status') {
    return { readings: [], rejects: [{ code: 'invalid_topic', reason: `expected an up or status event topic (application/{applicationId}/device/{devEui}/event/up), got ${message.topic}` }] };
  }
  const topicEui = m?.[2]?.toLowerCase();
  const json = parseJson(message.payload);
  if (!json.ok) return { deviceId: topicEui, readings: [], rejects: [{ ...json.reject, deviceId: topicEui }] };
  const ev = json.value;
  if (!isObject(ev)) return { deviceId: topicEui, readings: [], rejects: [{ code: 'invalid_envelope', reason: 'expected a JSON object (a ChirpStack event)', deviceId: topicEui }] };
  const info: Json = isObject(ev.deviceInfo) ? ev.deviceInfo : {};
  const eui = typeof info.devEui === 'string' && info.devEui ? info.devEui.toLowerCase() : topicEui;
  if (!eui) return { readings: [], rejects: [{ code: 'invalid_envelope', field: 'deviceInfo.devEui', reason: `deviceInfo.devEui: absent, and topic ${message.topic} does not name the device` }] };
  const name = typeof info.deviceName === 'string' ? info.deviceName : undefined;
  const deviceId = o.deviceId === 'deviceName' && name ? name : eui;
  const tags = isObject(info.tags) ? Object.fromEntries(Object.entries(info.tags).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
  const deviceInfo: DeviceInfo[] = [{ deviceId, ...(name ? { name } : {}), tags: { ...tags, devEui: eui } }];

  const rejects: Reject[] = [];
  let time: Date | undefined;
  if (ev.time !== undefined) {
    const parsed = parseTimestamp(ev.time);
    if (!parsed.ok) return { deviceId, deviceInfo, readings: [], rejects: [{ code: 'invalid_timestamp', field: 'time', reason: `time: ${parsed.reason}`, deviceId }] };
    time = parsed.time;
  }

  if (event === 'status') return { deviceId, deviceInfo, readings: statusReadings(ev, deviceId, time), rejects };

  const readings: Reading[] = linkQuality(ev.rxInfo, deviceId, 'rxInfo', time);
  const out = formatterOutput({
    decoded: ev.object,
    fPort: ev.fPort,
    raw: ev.data,
    field: 'object',
    portName: 'fPort',
    rawName: 'data',
    fix: 'set a payload codec on the device profile in ChirpStack',
    deviceId,
    time,
  });
  if (out.reject) rejects.push(out.reject);
  const entries = out.entries;
  const mapped = mapKeys(deviceId, entries, profilesFor(context, deviceId, tags[o.profileTag]));
  return { deviceId, deviceInfo, readings: [...readings, ...mapped.readings], rejects: [...rejects, ...mapped.rejects] };
}

/**
 * Status event (answer to a DevStatusReq): battery level in percent unless the device is on
 * external power or cannot measure it (then both flags say so and batteryLevel is 0/omitted).
 */
function statusReadings(ev: Json, deviceId: string, time: Date | undefined): Reading[] {
  if (ev.externalPowerSource === true || ev.batteryLevelUnavailable === true) return [];
  return [{ deviceId, metric: 'battery', channel: '', time, value: ev.batteryLevel ?? 0, field: 'batteryLevel' }];
}
