/**
 * Property-based robustness of every decoder (fast-check): random bytes, random JSON, random
 * Sparkplug payloads and mutations of the golden payloads. For every input: the decoder never
 * throws (no `decoder_error`), and the message ends as observations, dead letters or a device
 * status/info change; every observation is a valid canonical observation.
 */
import fc from 'fast-check';
import sparkplug from 'sparkplug-payload';
import t from 'tap';
import { processMessage, type ProcessedMessage } from '../ingest/process-message.ts';
import { observationSchema } from '../schemas/index.ts';
import { goldenOptions, loadGoldenCases } from './helpers/golden.ts';

const spb = sparkplug.get('spBv1.0')!;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const receivedAt = new Date('2026-01-15T08:00:05Z');
const TOPICS: Record<string, string[]> = {
  'ttn-v3': ['v3/app/devices/dev-1/up', 'v3/app@tenant/devices/dev-2/up'],
  'chirpstack-v4': ['application/a1/device/0018b20000000a1f/event/up', 'application/a1/device/0018b20000000a1f/event/status'],
  senml: ['vigie/sonde-1/senml'],
  'sparkplug-b': ['spBv1.0/g/NBIRTH/n', 'spBv1.0/g/NDATA/n', 'spBv1.0/g/DBIRTH/n/d', 'spBv1.0/g/DDATA/n/d', 'spBv1.0/g/DDEATH/n/d', 'spBv1.0/g/NDEATH/n'],
  ngsi: ['vigie/ngsi', 'http/ngsi/notify'],
};
const allTopics = Object.values(TOPICS).flat();

function check(out: ProcessedMessage): void {
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

t.test('random bytes on every format topic', async (t) => {
  const options = goldenOptions();
  fc.assert(
    fc.property(fc.constantFrom(...allTopics), fc.uint8Array({ maxLength: 512 }), (topic, bytes) => {
      check(processMessage({ topic, payload: Buffer.from(bytes), receivedAt }, options));
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} random payloads`);
});

t.test('random JSON on every JSON format topic', async (t) => {
  const options = goldenOptions();
  const jsonTopics = allTopics.filter((x) => !x.startsWith('spBv1.0'));
  fc.assert(
    fc.property(fc.constantFrom(...jsonTopics), fc.jsonValue({ maxDepth: 5 }), (topic, value) => {
      check(processMessage({ topic, payload: Buffer.from(JSON.stringify(value) ?? 'null'), receivedAt }, options));
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} random JSON documents`);
});

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

t.test('mutated golden payloads (structure and bytes)', async (t) => {
  const cases = loadGoldenCases();
  fc.assert(
    fc.property(
      fc.constantFrom(...cases),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.jsonValue({ maxDepth: 2 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.boolean(),
      (c, path, replacement, flips, structural) => {
        const options = goldenOptions(c.devices);
        for (const m of c.before) processMessage(m, options);
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
        check(processMessage({ ...c.message, payload }, options));
      },
    ),
    { numRuns: RUNS * 3 },
  );
  t.pass(`${RUNS * 3} mutations of ${cases.length} golden payloads`);
});

t.test('random well-formed Sparkplug B streams keep state consistent', async (t) => {
  const metric = fc.record({
    name: fc.option(fc.constantFrom('Sensors/Temperature', 'Humidity', 'co2', 'bdSeq', 'Node Control/Rebirth', 'weird/thing', ''), { nil: undefined }),
    alias: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
    type: fc.constantFrom('Int32', 'Int64', 'UInt64', 'Float', 'Double', 'Boolean', 'String'),
    raw: fc.oneof(fc.double({ noNaN: false }), fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.boolean(), fc.string({ maxLength: 8 })),
    timestamp: fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }),
  });
  const message = fc.record({
    topic: fc.constantFrom(...TOPICS['sparkplug-b']!),
    seq: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
    metrics: fc.array(metric, { maxLength: 6 }),
  });
  const coerce = (type: string, raw: unknown): unknown => {
    if (type === 'Boolean') return Boolean(raw);
    if (type === 'String') return String(raw);
    const n = typeof raw === 'number' ? raw : raw ? 1 : 0;
    if (type.includes('Int')) return Number.isFinite(n) ? Math.trunc(Math.abs(n)) % 2 ** 31 : 0;
    return n;
  };
  let commands = 0;
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (stream) => {
      const options = goldenOptions();
      for (const m of stream) {
        const payload = spb.encodePayload({
          timestamp: receivedAt.getTime() - 1000,
          ...(m.seq === undefined ? {} : { seq: m.seq }),
          metrics: m.metrics.map((x) => ({ ...(x.name === undefined ? {} : { name: x.name }), ...(x.alias === undefined ? {} : { alias: x.alias }), type: x.type as 'Int32', value: coerce(x.type, x.raw) as number, ...(x.timestamp === undefined ? {} : { timestamp: x.timestamp }) })),
        });
        const out = processMessage({ topic: m.topic, payload: Buffer.from(payload), receivedAt }, options);
        check(out);
        for (const c of out.commands ?? []) {
          commands += 1;
          if (c.topic !== 'spBv1.0/g/NCMD/n') throw new Error(`rebirth sent to ${c.topic}`);
          const decoded = spb.decodePayload(c.payload);
          if (decoded.metrics?.[0]?.name !== 'Node Control/Rebirth' || decoded.metrics[0].value !== true) throw new Error('malformed rebirth request');
        }
      }
    }),
    { numRuns: RUNS },
  );
  t.ok(commands > 0, `rebirth requests were exercised (${commands})`);
});
