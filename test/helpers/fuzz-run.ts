/**
 * One fuzzing pass, sized by the caller (the abuse suite runs a small one on every `npm test`;
 * `npm run fuzz` a large one and prints the figures):
 * - pure: generated payloads through the whole decode path of every wire format;
 * - platform: generated payloads published at QoS 1 to a real platform (Mosquitto, PostgreSQL),
 *   interleaved with valid native messages, every one of which must be stored once acknowledged;
 * - http: generated query strings on every GET route, none of which may answer 5xx.
 */
import fc from 'fast-check';
import { processMessage } from '../../ingest/process-message.ts';
import { checkOutcome, goldenMutation, queryString, randomBytesMessage, randomJsonMessage, runMutation, sparkplugStream } from './fuzz.ts';
import { goldenOptions, loadGoldenCases } from './golden.ts';
import { startTestPlatform } from './platform.ts';
import { waitFor } from './wait.ts';

export interface FuzzSizes {
  pure: number;
  platform: number;
  http: number;
  seed: number;
}

export interface FuzzFigures {
  pure: { payloads: number; failures: string[]; seconds: number };
  platform: { messages: number; garbage: number; valid: number; validStored: number; deadLetters: number; seconds: number; healthAfter: number; rssMiB: number };
  http: { requests: number; fiveHundreds: string[]; seconds: number };
}

const GET_ROUTES = [
  '/api/v1/metrics', '/api/v1/series', '/api/v1/devices', '/api/v1/devices/d1', '/api/v1/devices/d1/latest', '/api/v1/dead-letters',
  '/api/v1/observations', '/api/v1/profiles', '/api/v1/traffic/stations', '/api/v1/traffic/tmja', '/api/v1/roads/conditions',
  '/api/v1/rules', '/api/v1/buildings/consumption', '/api/v1/buildings/comfort', '/api/v1/export', '/api/v1/alerts', '/api/v1/silences',
];

function purePass(n: number, seed: number): FuzzFigures['pure'] {
  const started = performance.now();
  const failures: string[] = [];
  const record = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (failures.length < 20) failures.push(`${what}: ${(err as Error).message}`);
    }
  };
  const quarter = Math.ceil(n / 4);
  const options = goldenOptions();
  for (const m of fc.sample(randomBytesMessage, { numRuns: quarter, seed })) record(`bytes on ${m.topic}`, () => checkOutcome(processMessage(m, options)));
  for (const m of fc.sample(randomJsonMessage, { numRuns: quarter, seed: seed + 1 })) record(`json on ${m.topic}`, () => checkOutcome(processMessage(m, options)));
  const cases = loadGoldenCases();
  for (const m of fc.sample(goldenMutation(cases), { numRuns: quarter, seed: seed + 2 })) record(`mutation of ${m.golden.format}/${m.golden.name}`, () => checkOutcome(runMutation(m)));
  let sparkplugMessages = 0;
  while (sparkplugMessages < quarter) {
    for (const stream of fc.sample(sparkplugStream, { numRuns: 100, seed: seed + 3 + sparkplugMessages })) {
      const o = goldenOptions();
      for (const m of stream) record(`sparkplug ${m.topic}`, () => checkOutcome(processMessage(m, o)));
      sparkplugMessages += stream.length;
    }
  }
  return { payloads: quarter * 3 + sparkplugMessages, failures, seconds: (performance.now() - started) / 1000 };
}

export async function runFuzz(sizes: FuzzSizes): Promise<FuzzFigures> {
  const pure = purePass(sizes.pure, sizes.seed);

  const tp = await startTestPlatform({ env: { VIGIE_TIMESCALE: 'off', VIGIE_RULES_DIR: '/nonexistent' } });
  try {
    const P = tp.prefix;
    const pub = await tp.publisher();
    const started = performance.now();
    const garbage = [
      ...fc.sample(randomBytesMessage, { numRuns: Math.ceil(sizes.platform / 3), seed: sizes.seed + 10 }),
      ...fc.sample(randomJsonMessage, { numRuns: Math.ceil(sizes.platform / 3), seed: sizes.seed + 11 }),
      ...fc.sample(goldenMutation(), { numRuns: Math.ceil(sizes.platform / 3), seed: sizes.seed + 12 }).map((m) => m.message),
    ].filter((m) => !m.topic.startsWith('http/'));
    // One valid message every fourth: distinct (device, time), so each must be stored exactly
    // once; one second apart, ending a minute ago (never in the future, never too old).
    const base = Date.now() - (Math.ceil(garbage.length / 3) + 60) * 1000;
    let valid = 0;
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < garbage.length; i++) {
      pending.push(pub.publishAsync(`${P}${garbage[i]!.topic}`, garbage[i]!.payload, { qos: 1 }));
      if (i % 3 === 0) {
        const ts = new Date(base + valid * 1000).toISOString();
        pending.push(pub.publishAsync(`${P}vigie/fz-${valid % 50}/telemetry`, JSON.stringify({ ts, metrics: { air_temperature: (valid % 400) / 10 } }), { qos: 1 }));
        valid++;
      }
      if (pending.length >= 500) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const count = async () => Number((await tp.platform.pool.query(`select count(*) as n from observations where device_id like 'fz-%'`)).rows[0].n);
    await waitFor(async () => (await count()) >= valid, 120_000, `${valid} valid messages stored`).catch(() => undefined);
    const validStored = await count();
    const deadLetters = Number((await tp.platform.pool.query('select count(*) as n from dead_letters')).rows[0].n);
    const platform = {
      messages: garbage.length + valid,
      garbage: garbage.length,
      valid,
      validStored,
      deadLetters,
      seconds: (performance.now() - started) / 1000,
      healthAfter: (await tp.platform.app.inject({ method: 'GET', url: '/health' })).statusCode,
      rssMiB: Math.round(process.memoryUsage().rss / 1048576),
    };

    const httpStarted = performance.now();
    const fiveHundreds: string[] = [];
    const queries = fc.sample(queryString, { numRuns: Math.ceil(sizes.http / GET_ROUTES.length), seed: sizes.seed + 20 });
    let requests = 0;
    for (const route of GET_ROUTES) {
      for (const q of queries) {
        const res = await tp.platform.app.inject({ method: 'GET', url: `${route}?${q}` });
        requests++;
        if (res.statusCode >= 500 && fiveHundreds.length < 20) fiveHundreds.push(`${route}?${q} -> ${res.statusCode}`);
      }
    }
    return { pure, platform, http: { requests, fiveHundreds, seconds: (performance.now() - httpStarted) / 1000 } };
  } finally {
    await tp.stop();
  }
}
