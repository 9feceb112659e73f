/**
 * npm run bench:ingest -- [--messages N] [--metrics M] [--broker URL]
 *
 * Publishes N QoS 1 messages of M metrics as fast as the broker takes them and measures, in
 * the same run:
 *  - baseline: raw broker delivery to a QoS 1 subscriber that only counts;
 *  - vigie: end-to-end, until Vigie (a child `vigie start` process, its own database) has
 *    committed every observation.
 * Prints JSON. Uses a Mosquitto started with infra/mosquitto/vigie.conf unless --broker.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { createTestDatabase } from '../test/helpers/database.ts';
import { startChildPlatform } from '../test/helpers/child-platform.ts';
import { startShippedMosquitto } from './broker.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    metrics: { type: 'string', default: '5' },
    broker: { type: 'string' },
    window: { type: 'string', default: '2000' },
  },
});
const N = Number(values.messages);
const M = Number(values.metrics);
const WINDOW = Number(values.window);
const METRIC_POOL = ['air_temperature', 'relative_humidity', 'surface_temperature', 'dew_point', 'wind_speed', 'pressure', 'co2', 'battery'];

const broker = values.broker ? { url: values.broker, stop: async () => {} } : await startShippedMosquitto();

/** Message i has its own observation time (ms), so no two messages share a key. */
const BASE_TS = Date.now() - N - 3_600_000;
function payload(i: number): string {
  const metrics: Record<string, number> = {};
  for (let k = 0; k < M; k++) metrics[METRIC_POOL[k % METRIC_POOL.length]!] = (i % 100) / 10 + k;
  return JSON.stringify({ ts: BASE_TS + i, metrics });
}

/** Publishes N messages with at most WINDOW unacknowledged at a time; returns seconds. */
async function publishAll(prefix: string): Promise<number> {
  const pub = await mqtt.connectAsync(broker.url, { clientId: `bench-pub-${randomBytes(3).toString('hex')}`, protocolVersion: 5 });
  const started = performance.now();
  let next = 0;
  let inflight = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (inflight < WINDOW && next < N) {
        const i = next++;
        inflight++;
        // 200 devices, each message a distinct observation time, so nothing collapses.
        pub.publish(`${prefix}vigie/bench-${i % 200}/telemetry`, payload(i), { qos: 1 }, (err) => {
          inflight--;
          if (err) return reject(err);
          if (next >= N && inflight === 0) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  await pub.endAsync();
  return seconds;
}

async function baseline() {
  const prefix = `b${randomBytes(3).toString('hex')}/`;
  const sub = await mqtt.connectAsync(broker.url, { clientId: `bench-sub-${prefix.slice(1, 7)}`, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 300, receiveMaximum: 10000 } });
  let received = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  sub.on('message', () => {
    if (++received === N) done();
  });
  await sub.subscribeAsync(`${prefix}vigie/+/telemetry`, { qos: 1 });
  const started = performance.now();
  const publishSeconds = await publishAll(prefix);
  await Promise.race([all, new Promise((r) => setTimeout(r, 120_000))]);
  const seconds = (performance.now() - started) / 1000;
  await sub.endAsync();
  return { seconds: round(seconds), publishSeconds: round(publishSeconds), received, messagesPerSecond: Math.round(received / seconds), loss: N - received };
}

async function vigie() {
  const db = await createTestDatabase('bench');
  const prefix = `v${randomBytes(3).toString('hex')}/`;
  const platform = await startChildPlatform({
    DATABASE_URL: db.url,
    MQTT_URL: broker.url,
    VIGIE_TOPIC_PREFIX: prefix,
    VIGIE_MQTT_CLIENT_ID: `bench-${prefix.slice(1, 7)}`,
    VIGIE_LOG_LEVEL: 'warn',
  });
  const pool = new pg.Pool({ connectionString: db.url });
  try {
    const started = performance.now();
    const publishSeconds = await publishAll(prefix);
    const expected = N * M;
    const deadline = Date.now() + 300_000;
    let stored = 0;
    while (Date.now() < deadline) {
      stored = await platform.metric('vigie_observations_stored_total');
      if (stored >= expected) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const rows = (await pool.query('select count(*)::int as n from observations')).rows[0].n as number;
    const batches = await platform.metric('vigie_batch_size_count');
    const commitSeconds = await platform.metric('vigie_commit_seconds_sum');
    return {
      seconds: round(seconds),
      publishSeconds: round(publishSeconds),
      observationsStored: rows,
      observationsPerSecond: Math.round(rows / seconds),
      messagesPerSecond: Math.round(rows / M / seconds),
      loss: expected - rows,
      commits: batches,
      meanBatchRows: Math.round(rows / batches),
      meanCommitMs: round((commitSeconds / batches) * 1000),
    };
  } finally {
    platform.child.kill('SIGTERM');
    await platform.exited;
    await pool.end();
    await db.drop();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
const base = await baseline();
const result = await vigie();
await broker.stop();
process.stdout.write(`${JSON.stringify({ messages: N, metricsPerMessage: M, broker: values.broker ?? 'mosquitto with infra/mosquitto/vigie.conf', baseline: base, vigie: result }, null, 2)}\n`);
