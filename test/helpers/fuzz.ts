/**
 * Generated input for every wire format (fast-check arbitraries), shared by the property tests,
 * the fuzz test of the abuse suite and `npm run fuzz`: random bytes and JSON on each format's
 * topics, mutations of the golden payloads, well-formed Sparkplug B streams, and generated
 * query strings for the API.
 */
import fc from 'fast-check';
import sparkplug from 'sparkplug-payload';
import type { InboundMessage } from '../../ingest/decoder.ts';
import { processMessage, type ProcessedMessage } from '../../ingest/process-message.ts';
import { observationSchema } from '../../schemas/index.ts';
import { goldenOptions, loadGoldenCases, type GoldenCase } from './golden.ts';

const spb = sparkplug.get('spBv1.0')!;
export const FUZZ_RECEIVED_AT = new Date('2026-01-15T08:00:05Z');

export const FORMAT_TOPICS: Record<string, string[]> = {
  native: ['vigie/dev-1/telemetry'],
  'ttn-v3': ['v3/app/devices/dev-1/up', 'v3/app@tenant/devices/dev-2/up'],
  'chirpstack-v4': ['application/a1/device/0018b20000000a1f/event/up', 'application/a1/device/0018b20000000a1f/event/status'],
  senml: ['vigie/sonde-1/senml'],
  'sparkplug-b': ['spBv1.0/g/NBIRTH/n', 'spBv1.0/g/NDATA/n', 'spBv1.0/g/DBIRTH/n/d', 'spBv1.0/g/DDATA/n/d', 'spBv1.0/g/DDEATH/n/d', 'spBv1.0/g/NDEATH/n'],
  ngsi: ['vigie/ngsi', 'http/ngsi/notify'],
};
export const ALL_TOPICS = Object.values(FORMAT_TOPICS).flat();
const JSON_TOPICS = ALL_TOPICS.filter((x) => !x.startsWith('spBv1.0'));

/** What must hold for any input: no decoder exception, an outcome, valid and storable output. */
export function checkOutcome(out: ProcessedMessage): void {
  const bug = out.deadLetters.find((d) => d.code === 'decoder_error');
  if (bug) throw new Error(`decoder threw: ${bug.reason}`);
  const outcomes = out.observations.length + out.deadLetters.length + (out.deviceStatus?.length ?? 0) + (out.deviceInfo?.length ?? 0);
  if (outcomes === 0) throw new Error('message vanished: no observation, no dead letter, no device change');
  for (const o of out.observations) observationSchema.parse(o);
  for (const d of out.deadLetters) {
    if (!d.reason) throw new Error(`dead letter ${d.code} without a reason`);
    // PostgreSQL text refuses U+0000: a reason quoting garbage must still be storable.
    if (d.reason.includes('\u0000') || d.field?.includes('\u0000')) throw new Error(`dead letter ${d.code} holds a NUL character`);
  }
}

export const randomBytesMessage = fc
  .tuple(fc.constantFrom(...ALL_TOPICS), fc.uint8Array({ maxLength: 512 }))
  .map(([topic, bytes]): InboundMessage => ({ topic, payload: Buffer.from(bytes), receivedAt: FUZZ_RECEIVED_AT }));

export const randomJsonMessage = fc
  .tuple(fc.constantFrom(...JSON_TOPICS), fc.jsonValue({ maxDepth: 5 }))
  .map(([topic, value]): InboundMessage => ({ topic, payload: Buffer.from(JSON.stringify(value) ?? 'null'), receivedAt: FUZZ_RECEIVED_AT }));

/** Replaces one value somewhere in a JSON document by an arbitrary one. */
function mutateJson(doc: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || doc === null || typeof doc !== 'object') return replacement;
  const entries = Array.isArray(doc) ? doc.map((v, i) => [String(i), v] as const) : Object.entries(doc as Record<string, unknown>);
  if (entries.length === 0) return replacement;
  const [key, child] = entries[path[0]! % entries.length]!;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(doc) ? [...doc] : { ...(doc as Record<string, unknown>) };
  (copy as Record<string, unknown>)[key] = mutateJson(child, path.slice(1), replacement);
  return copy;
}

/** A golden case with its payload mutated (one JSON value replaced, or bytes flipped and cut). */
export function goldenMutation(cases: GoldenCase[] = loadGoldenCases()) {
  return fc
    .tuple(
      fc.constantFrom(...cases),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.jsonValue({ maxDepth: 2 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.boolean(),
    )
    .map(([c, path, replacement, flips, structural]) => {
      let payload = c.message.payload;
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      if (structural && parsed !== undefined) payload = Buffer.from(JSON.stringify(mutateJson(parsed, path, replacement)) ?? 'null');
      else {
        payload = Buffer.from(payload);
        for (const [pos, byte] of flips) if (payload.length > 0) payload[pos % payload.length] = byte;
        if (path[0] !== undefined && payload.length > 0) payload = payload.subarray(0, path[0] % (payload.length + 1));
      }
      return { golden: c, message: { ...c.message, payload } };
    });
}

/** Runs a mutated golden case after its earlier messages, on a fresh decoder state. */
export function runMutation(m: { golden: GoldenCase; message: InboundMessage }): ProcessedMessage {
  const options = goldenOptions(m.golden.devices);
  for (const b of m.golden.before) processMessage(b, options);
  return processMessage(m.message, options);
}

const sparkplugMetric = fc.record({
  name: fc.option(fc.constantFrom('Sensors/Temperature', 'Humidity', 'co2', 'bdSeq', 'Node Control/Rebirth', 'weird/thing', ''), { nil: undefined }),
  alias: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
  type: fc.constantFrom('Int32', 'Int64', 'UInt64', 'Float', 'Double', 'Boolean', 'String'),
  raw: fc.oneof(fc.double({ noNaN: false }), fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.boolean(), fc.string({ maxLength: 8 })),
  timestamp: fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }),
});

function coerce(type: string, raw: unknown): unknown {
  if (type === 'Boolean') return Boolean(raw);
  if (type === 'String') return String(raw);
  const n = typeof raw === 'number' ? raw : raw ? 1 : 0;
  if (type.includes('Int')) return Number.isFinite(n) ? Math.trunc(Math.abs(n)) % 2 ** 31 : 0;
  return n;
}

/** A stream of well-formed Sparkplug B messages with arbitrary metrics, aliases and sequence numbers. */
export const sparkplugStream = fc
  .array(
    fc.record({
      topic: fc.constantFrom(...FORMAT_TOPICS['sparkplug-b']!),
      seq: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
      metrics: fc.array(sparkplugMetric, { maxLength: 6 }),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((stream): InboundMessage[] =>
    stream.map((m) => ({
      topic: m.topic,
      receivedAt: FUZZ_RECEIVED_AT,
      payload: Buffer.from(
        spb.encodePayload({
          timestamp: FUZZ_RECEIVED_AT.getTime() - 1000,
          ...(m.seq === undefined ? {} : { seq: m.seq }),
          metrics: m.metrics.map((x) => ({
            ...(x.name === undefined ? {} : { name: x.name }),
            ...(x.alias === undefined ? {} : { alias: x.alias }),
            type: x.type as 'Int32',
            value: coerce(x.type, x.raw) as number,
            ...(x.timestamp === undefined ? {} : { timestamp: x.timestamp }),
          })),
        }),
      ),
    })),
  );

/** Query strings for the API's GET routes: known parameter names with hostile or random values. */
export const API_PARAMS = ['device', 'metric', 'channel', 'from', 'to', 'order', 'limit', 'cursor', 'domain', 'kind', 'registered', 'topic', 'decoder', 'code', 'reason', 'status', 'bucket', 'agg', 'tz', 'station', 'building', 'zone', 'format', 'fill', 'state', 'severity', 'rule', 'year', 'source'];
export const queryString = fc
  .dictionary(
    fc.constantFrom(...API_PARAMS),
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('a\u0000b', '99999999999999999999999', '-1', '+275760-09-13T00:00:00Z', '0000-01-01', 'NaN', '1h', '1m', 'p99,avg', 'Europe/Paris', '2026-01-01T00:00:00Z', 'air_temperature'),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    ),
    { maxKeys: 6 },
  )
  .map((q) => new URLSearchParams(q).toString());
