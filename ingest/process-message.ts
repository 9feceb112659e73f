/**
 * The pure part of the ingest path: one MQTT message to the observations and dead letters it
 * yields. No I/O here, so every wire format is testable from golden files.
 */
import { createHash } from 'node:crypto';
import { deviceIdSchema, type Observation, type Reject } from '../schemas/index.ts';
import type { DecodeContext, DeviceInfo, DeviceStatusChange, InboundMessage, OutboundCommand } from './decoder.ts';
import type { DecoderRegistry } from './decoders/registry.ts';
import { normalizeReading, type NormalizePolicy } from './normalize/normalize.ts';
import { routeFor, type TopicRoute } from './topic-routes.ts';

export interface DeadLetter {
  receivedAt: Date;
  topic: string;
  decoder: string | null;
  deviceId: string | null;
  code: Reject['code'];
  reason: string;
  field: string | null;
  /** Raw payload, truncated to the configured limit. */
  payload: Buffer;
  /** Size of the whole payload, not of the kept part. */
  payloadSize: number;
  /** SHA-256 of the whole payload: the dead letter's identity, so two payloads that share their first bytes stay two. */
  payloadSha256: Buffer;
}

export interface ProcessedMessage {
  observations: Observation[];
  deadLetters: DeadLetter[];
  /** Devices heard from, with the time they were last heard (for the device list). */
  deviceId: string | null;
  /** Messages to publish in answer (Sparkplug B rebirth requests). */
  commands?: OutboundCommand[];
  /** Online/offline changes, stored with the batch. */
  deviceStatus?: DeviceStatusChange[];
  /** Names and tags the wire format gives unregistered devices. */
  deviceInfo?: DeviceInfo[];
}

export interface ProcessOptions {
  routes: readonly TopicRoute[];
  decoders: DecoderRegistry;
  policy: NormalizePolicy;
  maxPayloadBytes: number;
  deadLetterMaxBytes: number;
  context: Omit<DecodeContext, 'now'>;
}

export const payloadSha256 = (payload: Buffer): Buffer => createHash('sha256').update(payload).digest();

/**
 * A dead letter for `message`. Every text in it comes from outside (topic, ids, keys quoted in
 * reasons): made storable and bounded here, so a NUL byte in a topic cannot make a whole commit
 * fail. The identity is the whole payload's hash and size, whatever part of it is kept.
 */
export function deadLetterOf(message: InboundMessage, decoder: string | null, deviceId: string | null, reject: Reject, keepBytes: number, sha = payloadSha256(message.payload)): DeadLetter {
  const device = reject.deviceId ?? deviceId;
  return {
    receivedAt: message.receivedAt,
    topic: printable(message.topic, 65_535),
    decoder,
    deviceId: device === null || device === undefined ? null : printable(device, 200),
    code: reject.code,
    reason: printable(reject.reason, 1000),
    field: reject.field === undefined ? null : printable(reject.field, 2000),
    payload: message.payload.subarray(0, keepBytes),
    payloadSize: message.payload.length,
    payloadSha256: sha,
  };
}

export function processMessage(message: InboundMessage, options: ProcessOptions): ProcessedMessage {
  const deadLetters: DeadLetter[] = [];
  let sha: Buffer | undefined;
  const dead = (decoder: string | null, deviceId: string | null, reject: Reject): DeadLetter =>
    deadLetterOf(message, decoder, deviceId, reject, options.deadLetterMaxBytes, (sha ??= payloadSha256(message.payload)));

  const route = routeFor(options.routes, message.topic);
  if (message.payload.length > options.maxPayloadBytes) {
    deadLetters.push(
      dead(route?.decoder ?? null, null, {
        code: 'payload_too_large',
        reason: `payload is ${message.payload.length} bytes, the limit is ${options.maxPayloadBytes} (VIGIE_MAX_PAYLOAD_BYTES)`,
      }),
    );
    return { observations: [], deadLetters, deviceId: null };
  }
  const decoder = route ? options.decoders.get(route.decoder) : undefined;
  if (!route || !decoder) {
    const reason = route ? `route ${route.filter} names decoder ${route.decoder}, which is not registered` : `no decoder is routed for topic ${message.topic}`;
    deadLetters.push(dead(route?.decoder ?? null, null, { code: 'no_decoder', reason }));
    return { observations: [], deadLetters, deviceId: null };
  }

  let decoded;
  try {
    decoded = decoder.decode(message, { ...options.context, now: message.receivedAt });
  } catch (err) {
    // A decoder bug must cost one message, never the process: it is dead-lettered (decoder_error) and the rest flows.
    deadLetters.push(dead(decoder.name, null, { code: 'decoder_error', reason: `decoder ${decoder.name} failed: ${(err as Error).message}` }));
    return { observations: [], deadLetters, deviceId: null };
  }
  // An id that is not a valid device id (a topic level holding control bytes, say) names no
  // device: it is kept, escaped, in the dead letter only, never as a device row.
  const validId = (id: string | null | undefined) => typeof id === 'string' && deviceIdSchema.safeParse(id).success;
  const rawDeviceId = decoded.deviceId ?? null;
  const deviceId = validId(rawDeviceId) ? rawDeviceId : null;
  const observations: Observation[] = [];
  const rejects: Reject[] = [...decoded.rejects];
  for (const reading of decoded.readings) {
    const result = normalizeReading(reading, message.receivedAt, options.policy);
    if (result.ok) observations.push(result.observation);
    else rejects.push(result.reject);
  }
  const status = (decoded.deviceStatus ?? []).filter((c) => validId(c.deviceId));
  const info = decoded.deviceInfo?.filter((i) => validId(i.deviceId));
  // Every message ends as observations, dead letters or news about the device (status, tags):
  // one that yields none of them (an empty decoded payload, only null values) is reported, not lost.
  if (observations.length === 0 && rejects.length === 0 && status.length === 0 && !info?.length) {
    rejects.push({ code: 'no_values', reason: `the message holds no value Vigie stores (decoder ${decoder.name})` });
  }
  for (const reject of mergeSameReason(rejects)) deadLetters.push(dead(decoder.name, rawDeviceId, reject));
  return {
    observations,
    deadLetters,
    deviceId,
    ...(decoded.commands?.length ? { commands: decoded.commands } : {}),
    ...(status.length ? { deviceStatus: status } : {}),
    ...(info?.length ? { deviceInfo: info } : {}),
  };
}

/**
 * Reasons quote the payload (JSON.parse names the bad token and its surroundings); PostgreSQL
 * text cannot hold U+0000 (SQLSTATE 22021), and other control characters only garble a log
 * line. They are shown escaped, and reasons are capped so garbage cannot make them huge.
 */
export function printable(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

const TIME_CODES: ReadonlySet<Reject['code']> = new Set(['timestamp_in_future', 'timestamp_too_old', 'invalid_timestamp']);
/** Keys the message names and Vigie does not know: one dead letter per message lists them all. */
const KEY_CODES: ReadonlySet<Reject['code']> = new Set(['unknown_metric', 'unmapped_key']);
/** Keys quoted by name in a merged reason; the rest are counted. */
const KEYS_LISTED = 50;

/**
 * A bad timestamp fails every metric of a message with the same words; record it once, with
 * all the fields it cost, rather than once per metric. Unknown keys are likewise one dead letter
 * per message (a 128 KB message with 10,000 unknown keys is one row, not 10,000 copies of its
 * payload). Other rejects stay one per field.
 */
function mergeSameReason(rejects: Reject[]): Reject[] {
  const merged: Reject[] = [];
  const timeGroups = new Map<string, { first: Reject; detail: string; fields: string[] }>();
  // Each merged group takes the place of its first member, so the order stays the decoder's.
  const keyGroups = new Map<Reject['code'], { at: number; rejects: Reject[] }>();
  for (const r of rejects) {
    if (KEY_CODES.has(r.code)) {
      const group = keyGroups.get(r.code);
      if (group) group.rejects.push(r);
      else {
        keyGroups.set(r.code, { at: merged.length, rejects: [r] });
        merged.push(r);
      }
      continue;
    }
    if (!TIME_CODES.has(r.code) || !r.field) {
      merged.push(r);
      continue;
    }
    const detail = r.reason.slice(r.field.length + 2);
    const key = `${r.code}\u0000${detail}`;
    const group = timeGroups.get(key);
    if (group) group.fields.push(r.field);
    else timeGroups.set(key, { first: r, detail, fields: [r.field] });
  }
  for (const { first, detail, fields } of timeGroups.values()) {
    merged.push({ ...first, field: fields.join(','), reason: `${fields.join(', ')}: ${detail}` });
  }
  for (const { at, rejects: group } of keyGroups.values()) {
    if (group.length === 1) continue;
    const fields = group.map((r) => r.field ?? '?');
    const listed = fields.slice(0, KEYS_LISTED);
    const more = fields.length - listed.length;
    merged.splice(at, 1, {
      ...group[0]!,
      field: `${listed.join(',')}${more ? `,+${more}` : ''}`,
      reason: `${fields.length} keys refused (${group[0]!.code}): ${group
        .slice(0, KEYS_LISTED)
        .map((r) => r.reason)
        .join('; ')}${more ? `; and ${more} more` : ''}`,
    });
  }
  return merged;
}
