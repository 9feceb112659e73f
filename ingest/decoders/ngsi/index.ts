/**
 * FIWARE NGSI entities (Smart Data Models) in keyValues, NGSI-v2 normalized and NGSI-LD
 * shapes, on MQTT `vigie/ngsi` and as subscription notifications (`POST /ngsi/notify`,
 * routed as topic `http/ngsi/notify`). See README.md here; the models are in models.ts.
 */
import { z } from 'zod';
import type { QualityFlag, Reject } from '../../../schemas/index.ts';
import type { DecodeContext, Decoder, DecodeResult, InboundMessage, Reading } from '../../decoder.ts';
import { describe } from '../../normalize/timestamp.ts';
import { unitOfUnCefactCode } from '../../normalize/un-cefact-units.ts';
import { applyKey, coerceNumber } from '../../profiles/map-keys.ts';
import { parseJson } from '../json.ts';
import { DESCRIPTIVE, HEAVY_VEHICLE_TYPES, MODELS, type AttributeRule } from './models.ts';
import { instant, period } from './time.ts';

export const ngsiOptionsSchema = z
  .object({
    /**
     * Zone of date-times sent without one. The models write dates "in ISO8601 UTC format"
     * (TrafficFlowObserved, AirQualityObserved doc/spec.md), so UTC unless a partner is known
     * to send local wall-clock times.
     */
    localZone: z.string().default('UTC'),
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

interface Attribute {
  value: unknown;
  unitCode?: unknown;
  /** Where the attribute's own observation time sits, and its raw value. */
  time?: { at: string; raw: unknown };
}

/** The plain value of an attribute in any of the three shapes, with its unit code and own time. */
function attributeOf(raw: unknown): Attribute {
  if (!isObject(raw)) return { value: raw };
  // LD relationships hold `object`, NGSI-v2 ones `value`.
  if (raw.type === 'Relationship') return { value: raw.object ?? raw.value };
  if (!('value' in raw) && !('object' in raw)) return { value: raw };
  let value = raw.value;
  // NGSI-LD typed literal: {"@type": "DateTime", "@value": "..."}.
  if (isObject(value) && '@value' in value) value = value['@value'];
  const metadata = isObject(raw.metadata) ? raw.metadata : {};
  const meta = (name: string) => (isObject(metadata[name]) ? (metadata[name] as Json).value : undefined);
  // NGSI-LD: `unitCode` and `observedAt` members of the Property (ETSI GS CIM 009 §4.5.2);
  // NGSI-v2: metadata `unitCode`, the IoT Agents' `TimeInstant`, the data models' `timestamp`.
  const unitCode = raw.unitCode ?? meta('unitCode');
  const time =
    raw.observedAt !== undefined
      ? { at: 'observedAt', raw: raw.observedAt }
      : meta('TimeInstant') !== undefined
        ? { at: 'metadata.TimeInstant', raw: meta('TimeInstant') }
        : meta('timestamp') !== undefined
          ? { at: 'metadata.timestamp', raw: meta('timestamp') }
          : undefined;
  return { value, unitCode, time };
}

/** `urn:ngsi-ld:Device:tc-12` -> `tc-12`; `https://.../TrafficFlowObserved` -> `TrafficFlowObserved`. */
function shortId(id: string): string {
  const m = /^urn:ngsi-ld:[^:]+:(.+)$/.exec(id);
  return m ? m[1]! : id;
}
function shortType(type: string): string {
  return type.slice(Math.max(type.lastIndexOf('/'), type.lastIndexOf('#')) + 1);
}
const channelPart = (v: unknown) => String(v).replace(/[^A-Za-z0-9_+\-:]/g, '_').slice(0, 40);

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
  const single = entities.length === 1 && !Array.isArray(json.value) && !isObject((json.value as Json).data);
  entities.slice(0, MAX_ENTITIES).forEach((entity, i) => {
    const r = decodeEntity(entity, single ? '' : `data[${i}].`, zone);
    readings.push(...r.readings);
    rejects.push(...r.rejects);
    firstDevice ??= r.deviceId;
  });
  if (entities.length > MAX_ENTITIES) rejects.push({ code: 'invalid_envelope', field: 'data', reason: `data: ${entities.length} entities, only the first ${MAX_ENTITIES} are read` });
  return { deviceId: firstDevice, readings, rejects };
}

const isNumeric = (v: unknown) => typeof v === 'number' || (typeof v === 'string' && typeof coerceNumber(v).value === 'number');

/** The rule of an attribute; AirQualityObserved pollutants also come upper-case (`NO2` in its 2019 examples). */
function ruleOf(attributes: Record<string, AttributeRule>, name: string): AttributeRule | undefined {
  return attributes[name] ?? (name !== name.toLowerCase() && 'refuse' in (attributes[name.toLowerCase()] ?? {}) ? attributes[name.toLowerCase()] : undefined);
}

function decodeEntity(entity: unknown, at: string, zone: string): { deviceId?: string; readings: Reading[]; rejects: Reject[] } {
  if (!isObject(entity) || typeof entity.id !== 'string' || typeof entity.type !== 'string') {
    return { readings: [], rejects: [{ code: 'invalid_envelope', field: at || undefined, reason: `${at || 'entity'}: an entity needs string "id" and "type"` }] };
  }
  const type = shortType(entity.type);
  // NGSI-LD without a compacting @context names attributes by URI (`https://.../temperature`):
  // they are read by their last segment; reasons keep the key as sent.
  const attrs = new Map<string, { key: string; raw: unknown }>();
  for (const [key, raw] of Object.entries(entity)) {
    const name = /^[a-z][a-z0-9+.-]*:\/\//i.test(key) ? shortType(key) : key;
    if (!attrs.has(name)) attrs.set(name, { key, raw });
  }
  const ref = attributeOf(attrs.get('refDevice')?.raw).value;
  const refId = Array.isArray(ref) ? ref[0] : ref;
  const deviceId = shortId(typeof refId === 'string' && refId ? refId : entity.id);
  const model = MODELS[type];
  if (!model) {
    return { deviceId, readings: [], rejects: [{ code: 'invalid_envelope', field: `${at}type`, deviceId, reason: `${at}type: entity type ${JSON.stringify(type.slice(0, 64))} is not one Vigie reads (${Object.keys(MODELS).join(', ')})` }] };
  }
  const rejects: Reject[] = [];
  const present = (name: string) => {
    const v = attributeOf(attrs.get(name)?.raw).value;
    return v === undefined || v === null || v === '' ? undefined : v;
  };
  const badTime = (name: string, reason: string) => rejects.push({ code: 'invalid_timestamp', field: `${at}${name}`, deviceId, reason: `${at}${name}: ${reason}` });
  const one = (name: string): Date | undefined => {
    const raw = present(name);
    if (raw === undefined) return undefined;
    const t = instant(raw, zone);
    if (t.ok) return t.time;
    badTime(name, t.reason);
    return undefined;
  };
  const from = one('dateObservedFrom');
  const to = one('dateObservedTo');
  const rawObserved = present('dateObserved');
  const observed = rawObserved === undefined ? undefined : period(rawObserved, zone);
  if (observed && !observed.ok) badTime('dateObserved', observed.reason);
  // The IoT Agents' entity attribute `TimeInstant` (iotagent-node-lib doc/api.md, "TimeInstant and Timestamp flag").
  const timeInstant = one('TimeInstant');
  // A date that does not parse dates nothing: the entity is rejected rather than stamped with the receive time.
  if (rejects.length > 0) return { deviceId, readings: [], rejects };
  const entityTime = to ?? (observed?.ok ? observed.end : undefined) ?? timeInstant;
  const start = from ?? (observed?.ok ? observed.start : undefined);
  const periodSeconds = start && entityTime && entityTime > start ? (entityTime.getTime() - start.getTime()) / 1000 : undefined;

  // TrafficFlowObserved: one channel per lane, and per vehicle class when the entity counts one
  // class only (vehicleType, vehicleSubType), so two classes never share a key.
  const lane = present('laneId');
  const vehicleType = present('vehicleType');
  const vehicleSubType = present('vehicleSubType');
  const parts = [lane === undefined ? undefined : `lane${channelPart(lane)}`, vehicleType, vehicleSubType].filter((p) => p !== undefined).map(channelPart);
  const channel = parts.length > 0 ? parts.join('.') : undefined;
  const classEntity = type === 'TrafficFlowObserved' && vehicleType !== undefined;
  const heavy = classEntity && typeof vehicleType === 'string' && HEAVY_VEHICLE_TYPES.has(vehicleType);

  const readings: Reading[] = [];
  for (const [name, { key, raw: sent }] of attrs) {
    if (DESCRIPTIVE.has(name)) continue;
    // NGSI-LD multi-attributes (ETSI GS CIM 009, "Multi-Attribute support"): instances of one attribute told apart
    // by `datasetId`, each on its own channel so they never share a key.
    const instances = Array.isArray(sent) && sent.length > 0 && sent.every((x) => isObject(x) && ('value' in x || 'object' in x))
      ? sent.map((x: Json, i) => ({ raw: x as unknown, field: `${at}${key}[${i}]`, channel: x.datasetId === undefined ? channel : [channel, channelPart(shortId(String(x.datasetId)))].filter(Boolean).join('.') }))
      : [{ raw: sent, field: `${at}${key}`, channel }];
    for (const { raw, field, channel } of instances) {
      const attr = attributeOf(raw);
      const value = attr.value;
      if (value === null || value === undefined) continue;
      const rule = ruleOf(model.attributes, name);
      if (!rule) {
        // Unknown measurements are reported; text, booleans and structures are not telemetry.
        if (isNumeric(value) || (isObject(raw) && raw.type === 'Number')) {
          rejects.push({ code: 'unmapped_key', field, deviceId, reason: `${field}: ${name} is not an attribute of ${type} Vigie knows (ingest/decoders/ngsi/models.ts)` });
        }
        continue;
      }
      if ('refuse' in rule) {
        if (isNumeric(value) || isObject(value)) rejects.push({ code: 'unmapped_key', field, deviceId, reason: `${field}: ${type}.${name} is not stored: ${rule.refuse}` });
        continue;
      }
      if (typeof value === 'string' && !isNumeric(value) && rule.textIsCategory) continue;
      if (typeof value === 'boolean' && !rule.key.binary) {
        rejects.push({ code: 'invalid_value', field, deviceId, reason: `${field}: the boolean ${String(value)} is no ${rule.key.metric}; ${type}.${name} is a number` });
        continue;
      }
      let unit = rule.key.unit;
      if (attr.unitCode !== undefined) {
        unit = typeof attr.unitCode === 'string' ? unitOfUnCefactCode(attr.unitCode) : undefined;
        if (!unit) {
          rejects.push({ code: 'unsupported_unit', field, deviceId, reason: `${field}: unitCode ${JSON.stringify(attr.unitCode).slice(0, 40)} is not a UN/CEFACT Recommendation 20 code Vigie converts (ingest/normalize/un-cefact-units.ts)` });
          continue;
        }
      } else if (rule.unitCodeRequired) {
        rejects.push({ code: 'unsupported_unit', field, deviceId, reason: `${field}: ${rule.unitCodeRequired}` });
        continue;
      }
      let t = entityTime;
      if (attr.time) {
        const own = instant(attr.time.raw, zone);
        if (!own.ok) {
          rejects.push({ code: 'invalid_timestamp', field: `${field}.${attr.time.at}`, deviceId, reason: `${field}.${attr.time.at}: ${own.reason}` });
          continue;
        }
        t = own.time;
      }
      let v: unknown = value;
      const flags: QualityFlag[] = [];
      // -180..180 (AirQualityObserved, FIWARE WeatherObserved examples) is the same direction in 0..360.
      if (rule.wrapDegrees && typeof v === 'number' && v < 0 && v >= -180) {
        v += 360;
        flags.push('converted');
      }
      const keys = name === 'intensity' && classEntity ? [{ ...rule.key, metric: 'vehicle_class_count' as const }, ...(heavy ? [{ ...rule.key, metric: 'heavy_vehicle_count' as const }] : [])] : [rule.key];
      for (const key of keys) {
        const r = applyKey(deviceId, { key: name, value: v, unit, time: t, channel, field, quality: flags }, { ...key, unit });
        if (r === null) continue;
        if ('code' in r) {
          rejects.push(r);
          continue;
        }
        readings.push(r);
        // Flow in veh/h = vehicles x 3600 / period seconds, for the count of all vehicles.
        if (name === 'intensity' && !classEntity && periodSeconds && typeof r.value === 'number') {
          readings.push({ ...r, metric: 'flow', value: Math.round(((r.value * 3600) / periodSeconds) * 100) / 100, field: `${field}(flow)`, quality: [...(r.quality ?? []), 'converted'] });
        }
      }
    }
  }
  if (readings.length === 0 && rejects.length === 0) rejects.push({ code: 'no_values', field: at || undefined, deviceId, reason: `${at || 'entity'}: ${type} ${entity.id.slice(0, 80)} holds no measurement Vigie maps` });
  return { deviceId, readings, rejects };
}
