/**
 * FIWARE NGSI entities (Smart Data Models) in keyValues, NGSI-v2 normalized and NGSI-LD
 * shapes, on MQTT `vigie/ngsi` and as Orion subscription notifications (`POST /ngsi/notify`,
 * routed as topic `http/ngsi/notify`). See README.md here.
 */
import { z } from 'zod';
import type { Reject } from '../../../schemas/index.ts';
import type { DecodeContext, Decoder, DecodeResult, InboundMessage, Reading } from '../../decoder.ts';
import { describe, parseTimestamp } from '../../normalize/timestamp.ts';
import { applyKey } from '../../profiles/map-keys.ts';
import { parseJson } from '../json.ts';
import { DESCRIPTIVE, HEAVY_VEHICLE_TYPES, MODELS, UNIT_CODES } from './models.ts';

export const ngsiOptionsSchema = z
  .object({
    /** Zone of date-times sent without one (IndoorEnvironmentObserved.dateObserved often is). */
    localZone: z.string().default('Europe/Paris'),
  })
  .strict();
export type NgsiOptions = z.input<typeof ngsiOptionsSchema>;

export const NGSI_TOPIC = 'vigie/ngsi';
export const NGSI_HTTP_TOPIC = 'http/ngsi/notify';
const MAX_ENTITIES = 1000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function createNgsiDecoder(options: NgsiOptions = {}): Decoder {
  const o = ngsiOptionsSchema.parse(options);
  return { name: 'ngsi', decode: (message, context) => decode(message, context, o.localZone) };
}

/** The entities of a message: one entity, an array, or a notification's `data` (v2 and LD). */
function entitiesOf(body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body;
  if (isObject(body) && Array.isArray(body.data) && (body.subscriptionId !== undefined || body.type === 'Notification')) return body.data;
  if (isObject(body) && body.id !== undefined) return [body];
  return undefined;
}

/** The plain value of an attribute in any of the three shapes, with its unit code and observedAt. */
function attributeValue(raw: unknown): { value: unknown; unitCode?: string; observedAt?: unknown } {
  if (!isObject(raw)) return { value: raw };
  // LD relationships hold `object`, NGSI-v2 ones `value`.
  if (raw.type === 'Relationship') return { value: raw.object ?? raw.value };
  if (!('value' in raw) && !('object' in raw)) return { value: raw };
  let value = raw.value;
  // NGSI-LD typed literal: {"@type": "DateTime", "@value": "..."}.
  if (isObject(value) && '@value' in value) value = value['@value'];
  const metadata = isObject(raw.metadata) ? raw.metadata : {};
  const unitCode = typeof raw.unitCode === 'string' ? raw.unitCode : isObject(metadata.unitCode) && typeof metadata.unitCode.value === 'string' ? metadata.unitCode.value : undefined;
  const ts = raw.observedAt ?? (isObject(metadata.timestamp) ? metadata.timestamp.value : undefined);
  return { value, unitCode, observedAt: ts };
}

/** `urn:ngsi-ld:Device:tc-12` -> `tc-12`; `https://.../TrafficFlowObserved` -> `TrafficFlowObserved`. */
function shortId(id: string): string {
  const m = /^urn:ngsi-ld:[^:]+:(.+)$/.exec(id);
  return m ? m[1]! : id;
}
function shortType(type: string): string {
  return type.slice(Math.max(type.lastIndexOf('/'), type.lastIndexOf('#')) + 1);
}

function decode(message: InboundMessage, context: DecodeContext, zone: string): DecodeResult {
  // Any routed topic: entities name their device themselves.
  void context;
  const json = parseJson(message.payload);
  if (!json.ok) return { readings: [], rejects: [json.reject] };
  const entities = entitiesOf(json.value);
  if (!entities) return { readings: [], rejects: [{ code: 'invalid_envelope', reason: `expected an NGSI entity (with "id" and "type"), an array of them or a notification with "data", got ${describe(json.value)}` }] };
  if (entities.length === 0) return { readings: [], rejects: [{ code: 'no_values', reason: 'the message holds no entity' }] };
  const readings: Reading[] = [];
  const rejects: Reject[] = [];
  let firstDevice: string | undefined;
  entities.slice(0, MAX_ENTITIES).forEach((entity, i) => {
    const r = decodeEntity(entity, entities.length === 1 && !Array.isArray(json.value) && !isObject((json.value as Json).data) ? '' : `data[${i}].`, zone);
    readings.push(...r.readings);
    rejects.push(...r.rejects);
    firstDevice ??= r.deviceId;
  });
  if (entities.length > MAX_ENTITIES) rejects.push({ code: 'invalid_envelope', field: 'data', reason: `data: ${entities.length} entities, only the first ${MAX_ENTITIES} are read` });
  return { deviceId: firstDevice, readings, rejects };
}

function decodeEntity(entity: unknown, at: string, zone: string): { deviceId?: string; readings: Reading[]; rejects: Reject[] } {
  if (!isObject(entity) || typeof entity.id !== 'string' || typeof entity.type !== 'string') {
    return { readings: [], rejects: [{ code: 'invalid_envelope', field: at || undefined, reason: `${at || 'entity'}: an entity needs string "id" and "type"` }] };
  }
  const type = shortType(entity.type);
  const ref = attributeValue(entity.refDevice).value;
  const refId = Array.isArray(ref) ? ref[0] : ref;
  const deviceId = shortId(typeof refId === 'string' && refId ? refId : entity.id);
  const model = MODELS[type];
  if (!model) {
    return { deviceId, readings: [], rejects: [{ code: 'invalid_envelope', field: `${at}type`, deviceId, reason: `${at}type: entity type ${JSON.stringify(type.slice(0, 64))} is not one Vigie reads (${Object.keys(MODELS).join(', ')})` }] };
  }
  const rejects: Reject[] = [];
  const time = (name: string): Date | undefined => {
    const raw = attributeValue(entity[name]).value;
    if (raw === undefined || raw === null) return undefined;
    const parsed = parseTimestamp(raw, { assumeZone: zone });
    if (parsed.ok) return parsed.time;
    rejects.push({ code: 'invalid_timestamp', field: `${at}${name}`, deviceId, reason: `${at}${name}: ${parsed.reason}` });
    return undefined;
  };
  // An interval (dateObservedFrom/To) dates the observation at its end, when the count is complete.
  const from = time('dateObservedFrom');
  const to = time('dateObservedTo');
  const observed = to ?? time('dateObserved');
  // A date that does not parse dates nothing: the entity is rejected rather than stamped with the receive time.
  if (rejects.length > 0) return { deviceId, readings: [], rejects };
  const periodSeconds = from && to && to > from ? (to.getTime() - from.getTime()) / 1000 : undefined;
  const laneRaw = attributeValue(entity.laneId).value;
  const channel = laneRaw === undefined || laneRaw === null ? undefined : `lane${String(laneRaw).replace(/[^A-Za-z0-9_.+\-:]/g, '_').slice(0, 60)}`;
  const vehicleType = attributeValue(entity.vehicleType).value;
  const heavy = typeof vehicleType === 'string' && HEAVY_VEHICLE_TYPES.has(vehicleType);

  const readings: Reading[] = [];
  for (const [name, raw] of Object.entries(entity)) {
    const field = `${at}${name}`;
    const key = model.attributes[name];
    if (!key) {
      const v = attributeValue(raw).value;
      // Unknown measurements are reported; descriptive attributes and non-numbers are not telemetry.
      if (!DESCRIPTIVE.has(name) && (typeof v === 'number' || (isObject(raw) && raw.type === 'Number'))) {
        rejects.push({ code: 'unmapped_key', field, deviceId, reason: `${field}: attribute ${name} of ${type} is not mapped to a Vigie metric` });
      }
      continue;
    }
    const attr = attributeValue(raw);
    const unit = attr.unitCode ? (UNIT_CODES[attr.unitCode] ?? attr.unitCode) : key.unit;
    let t = observed;
    if (attr.observedAt !== undefined) {
      const parsed = parseTimestamp(attr.observedAt, { assumeZone: zone });
      if (parsed.ok) t = parsed.time;
    }
    const metricKey = name === 'intensity' && heavy ? { ...key, metric: 'heavy_vehicle_count' as const } : key;
    const r = applyKey(deviceId, { key: name, value: attr.value, unit, time: t, channel, field }, { ...metricKey, unit });
    if (r === null) continue;
    if ('code' in r) {
      rejects.push(r);
      continue;
    }
    readings.push(r);
    // Flow in veh/h from the count over the interval (../shared/DOMAIN.md: count x 3600 / period).
    if (name === 'intensity' && !heavy && periodSeconds && typeof r.value === 'number') {
      readings.push({ ...r, metric: 'flow', value: Math.round(((r.value * 3600) / periodSeconds) * 100) / 100, field: `${field}(flow)`, quality: [...(r.quality ?? []), 'converted'] });
    }
  }
  if (readings.length === 0 && rejects.length === 0) rejects.push({ code: 'no_values', field: at || undefined, deviceId, reason: `${at || 'entity'}: ${type} ${entity.id.slice(0, 80)} holds no measurement Vigie maps` });
  return { deviceId, readings, rejects };
}
