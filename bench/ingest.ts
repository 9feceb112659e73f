/**
 * npm run bench:ingest -- [--messages N] [--metrics M] [--broker URL]
 *
 * Publishes N QoS 1 messages of M metrics as fast as the broker takes them and measures, in
 * the same run, on the same broker and PostgreSQL server:
 *  - baseline: raw broker delivery to a QoS 1 subscriber that only counts;
 *  - reference: the smallest correct pipeline (bench/reference-pipeline.ts: JSON, batched
 *    idempotent insert, PUBACK after commit), its own database;
 *  - vigie: end-to-end, until Vigie (a child `vigie start` process, its own database, every
 *    module on: alerting with the default rules, rollups, live stream) has committed every
 *    observation; then the same with alerting off. Each reports lost and doubled rows, its
 *    ratio to the reference and the child's peak resident memory.
 * Prints JSON. Uses a Mosquitto started with infra/mosquitto/vigie.conf unless --broker.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { createBenchDatabase as createTestDatabase } from './database.ts';
import { startChildPlatform } from '../test/helpers/child-platform.ts';
import { startShippedMosquitto } from '../test/helpers/shipped-mosquitto.ts';
import { publishWindowed } from './publish.ts';
import { startReference } from './reference-pipeline.ts';

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
function publishAll(prefix: string): Promise<number> {
  // 200 devices, each message a distinct observation time, so nothing collapses.
  return publishWindowed(broker.url, N, WINDOW, (i) => ({ topic: `${prefix}vigie/bench-${i % 200}/telemetry`, payload: payload(i) }));
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

async function reference() {
  const db = await createTestDatabase('benchref');
  const prefix = `r${randomBytes(3).toString('hex')}/`;
  try {
    const ref = await startReference(broker.url, db.url, `${prefix}vigie/+/telemetry`, N * M);
    const started = performance.now();
    const publishSeconds = await publishAll(prefix);
    const stored = await ref.stored;
    const seconds = (performance.now() - started) / 1000;
    const pool = new pg.Pool({ connectionString: db.url });
    const rows = (await pool.query('select count(*)::int as n from reference_observations')).rows[0].n as number;
    await pool.end();
    return { seconds: round(seconds), publishSeconds: round(publishSeconds), observationsStored: rows, observationsPerSecond: Math.round(rows / seconds), loss: N * M - rows, doubled: stored - rows };
  } finally {
    await db.drop();
  }
}

async function vigie(env: Record<string, string> = {}) {
  const db = await createTestDatabase('bench');
  const prefix = `v${randomBytes(3).toString('hex')}/`;
  const platform = await startChildPlatform({
    DATABASE_URL: db.url,
    MQTT_URL: broker.url,
    VIGIE_TOPIC_PREFIX: prefix,
    VIGIE_MQTT_CLIENT_ID: `bench-${prefix.slice(1, 7)}`,
    VIGIE_LOG_LEVEL: 'warn',
    ...env,
  });
  const pool = new pg.Pool({ connectionString: db.url });
  try {
    let peakRss = 0;
    const sampler = setInterval(() => {
      void platform.metric('vigie_process_process_resident_memory_bytes').then((b) => (peakRss = Math.max(peakRss, b || 0)), () => {});
    }, 1000);
    const cpuBefore = await platform.metric('vigie_process_process_cpu_seconds_total');
    const started = performance.now();
    const publishSeconds = await publishAll(prefix);
    const expected = N * M;
    const deadline = Date.now() + 300_000;
    let stored = 0;
    while (Date.now() < deadline) {
      stored = await platform.metric('vigie_observations_stored_total');
      if (stored >= expected) break;
      // Every poll renders Vigie's /metrics: 100 ms keeps that under 1 % of its CPU, and the
      // end of a run of several seconds within 1 % of its length.
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = (await platform.metric('vigie_process_process_cpu_seconds_total')) - cpuBefore;
    clearInterval(sampler);
    await pool.query('analyze observation_values');
    const rows = (await pool.query('select count(*)::int as n from observation_rows')).rows[0].n as number;
    const distinct = (await pool.query('select count(*)::int as n from (select distinct series_id, time from observation_rows) d')).rows[0].n as number;
    const batches = await platform.metric('vigie_batch_size_count');
    const commitSeconds = await platform.metric('vigie_commit_seconds_sum');
    return {
      seconds: round(seconds),
      publishSeconds: round(publishSeconds),
      observationsStored: rows,
      observationsPerSecond: Math.round(rows / seconds),
      messagesPerSecond: Math.round(rows / M / seconds),
      loss: expected - distinct,
      doubled: rows - distinct,
      peakResidentMegabytes: Math.round(peakRss / 1048576),
      commits: batches,
      meanBatchRows: Math.round(rows / batches),
      meanCommitMs: round((commitSeconds / batches) * 1000),
      // Vigie's own CPU (user + system, all threads) per million observations: what the
      // ratio costs on a machine it shares with the broker, the database and the publisher.
      cpuSecondsPerMillionObservations: round((cpuSeconds / rows) * 1e6),
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
const ref = await reference();
const all = await vigie();
const noAlerting = await vigie({ VIGIE_ALERTING: 'false' });
await broker.stop();
const ratio = (r: { observationsPerSecond: number }) => round(r.observationsPerSecond / ref.observationsPerSecond);
process.stdout.write(
  `${JSON.stringify(
    {
      messages: N,
      metricsPerMessage: M,
      broker: values.broker ?? 'mosquitto with infra/mosquitto/vigie.conf',
      baseline: base,
      reference: ref,
      vigie: { ...all, ratioToReference: ratio(all) },
      vigieAlertingOff: { ...noAlerting, ratioToReference: ratio(noAlerting) },
    },
    null,
    2,
  )}\n`,
);
