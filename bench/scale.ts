/**
 * npm run bench:scale -- [--messages N] [--metrics M] [--processes 1,2,3] [--broker URL]
 *
 * Ingest throughput with 1, 2 and 3 `vigie start` processes (real child processes) on one MQTT 5
 * shared subscription and one database, and the alert evaluator's lag behind the commits
 * (it reads the durable commit feed in whichever process holds the `alerting` role):
 *  - throughput: N QoS 1 messages of M metrics published as fast as the broker takes them
 *    (at most --window unacknowledged), until every observation is committed;
 *  - evaluation lag: commit (database clock) to persisted evaluation step, from the holder's
 *    vigie_alert_step_seconds histogram (mean, and the bucket bound holding the 95th and
 *    99th percentiles), and how long the evaluator took to pass the last commit.
 * Prints JSON. Uses a Mosquitto started with infra/mosquitto/vigie.conf unless --broker (a
 * broker with the default max_queued_messages of 1000 drops a flood's excess for a busy
 * subscriber, and the run would wait for messages that never come).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stringify } from 'yaml';
import { startChildPlatform, type ChildPlatform } from '../test/helpers/child-platform.ts';
import { createTestDatabase } from '../test/helpers/database.ts';
import { startShippedMosquitto } from '../test/helpers/shipped-mosquitto.ts';
import { publishWindowed } from './publish.ts';
import { authHeaders } from '../test/helpers/platform.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    metrics: { type: 'string', default: '5' },
    processes: { type: 'string', default: '1,2,3' },
    broker: { type: 'string' },
    window: { type: 'string', default: '1000' },
  },
});
const N = Number(values.messages);
const M = Number(values.metrics);
const WINDOW = Number(values.window);
const COUNTS = values.processes.split(',').map(Number);
const broker = values.broker ? { url: values.broker, stop: async () => {} } : await startShippedMosquitto();
const BROKER = broker.url;
const DEVICES = 200;
// Catalogue metrics only (an unknown name is a dead letter, not an observation).
const METRIC_POOL = ['air_temperature', 'relative_humidity', 'co2', 'battery', 'dew_point', 'wind_speed', 'surface_temperature'];

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-scale-'));
const rulesDir = path.join(dir, 'rules');
(await import('node:fs')).mkdirSync(rulesDir);
// Rules that every observation meets the scope of (evaluated), a few that fire.
writeFileSync(
  path.join(rulesDir, 'bench.yaml'),
  stringify({
    rules: [
      { id: 'hot', name: 'Hot', severity: 'warning', scope: { kinds: ['building-sensor'] }, condition: { type: 'threshold', metric: 'air_temperature', op: 'above', value: 9.5, clear: 5 }, notify: [] },
      { id: 'co2', name: 'CO2', severity: 'info', scope: { kinds: ['building-sensor'] }, condition: { type: 'threshold', metric: 'co2', op: 'above', value: 11, clear: 10 }, notify: [] },
    ],
  }),
);
const registry = path.join(dir, 'devices.yaml');
writeFileSync(registry, stringify({ devices: Array.from({ length: DEVICES }, (_, i) => ({ id: `bench-${i}`, kind: 'building-sensor', domain: 'buildings', periodSeconds: 300 })) }));

/** Message i has its own observation time (ms), recent enough to be evaluated live. */
const BASE_TS = Date.now() - N - 60_000;
function payload(i: number): string {
  const metrics: Record<string, number> = {};
  for (let k = 0; k < M; k++) metrics[METRIC_POOL[k % METRIC_POOL.length]!] = (i % 100) / 10 + k;
  return JSON.stringify({ ts: BASE_TS + i, metrics });
}

function publishAll(prefix: string): Promise<number> {
  return publishWindowed(BROKER, N, WINDOW, (i) => ({ topic: `${prefix}vigie/bench-${i % DEVICES}/telemetry`, payload: payload(i) }));
}

function histogram(text: string, name: string): { mean: number | null; p95: string | null; p99: string | null; steps: number } {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))].map((m) => ({ le: m[1]!, n: Number(m[2]) }));
  const sum = Number(new RegExp(`^${name}_sum (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const count = Number(new RegExp(`^${name}_count (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const at = (q: number) => buckets.find((b) => b.n >= q * count)?.le ?? null;
  return { mean: count ? Math.round((sum / count) * 1000) : null, p95: count ? at(0.95) : null, p99: count ? at(0.99) : null, steps: count };
}

async function run(processes: number) {
  const db = await createTestDatabase('bench_scale');
  const prefix = `b${randomBytes(4).toString('hex')}/`;
  const group = `g${randomBytes(3).toString('hex')}`;
  const procs: ChildPlatform[] = [];
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    for (let i = 0; i < processes; i++) {
      procs.push(
        await startChildPlatform({
          DATABASE_URL: db.url,
          MQTT_URL: BROKER,
          VIGIE_TOPIC_PREFIX: prefix,
          VIGIE_MQTT_SHARED_GROUP: group,
          VIGIE_MQTT_PROTOCOL: '5',
          VIGIE_MQTT_CLIENT_ID: `${group}-${i}`,
          VIGIE_RULES_DIR: rulesDir,
          VIGIE_REGISTRY: registry,
          VIGIE_DATA_DIR: dir,
          VIGIE_LOG_LEVEL: 'warn',
          VIGIE_TIMESCALE: 'off',
        }),
      );
    }
    const started = performance.now();
    const publishSeconds = await publishAll(prefix);
    const expected = N * M;
    let stored = 0;
    while (stored < expected) {
      stored = Number((await pool.query('select count(*) as n from observations')).rows[0].n);
      if (performance.now() - started > 300_000) throw new Error(`only ${stored} of ${expected} observations after 5 min`);
      if (stored < expected) await new Promise((r) => setTimeout(r, 100));
    }
    const storedSeconds = (performance.now() - started) / 1000;
    // The evaluator passes the last commit.
    const last = Number((await pool.query('select max(seq) as s from commit_log')).rows[0].s);
    const evalStart = performance.now();
    for (;;) {
      const pos = Number((await pool.query(`select seq from commit_consumers where name = 'alerting'`)).rows[0].seq);
      if (pos >= last) break;
      if (performance.now() - evalStart > 120_000) throw new Error('the evaluator did not catch up within 2 min');
      await new Promise((r) => setTimeout(r, 20));
    }
    const caughtUpAfterStoredMs = Math.round(performance.now() - evalStart);
    let lag = null;
    for (const p of procs) {
      const view = (await (await fetch(`${p.url}/api/v1/cluster`, { headers: authHeaders() })).json()) as { singletons: Array<{ role: string; here: boolean }> };
      if (!view.singletons.find((s) => s.role === 'alerting')?.here) continue;
      lag = histogram(await (await fetch(`${p.url}/metrics`, { headers: authHeaders() })).text(), 'vigie_alert_step_seconds');
    }
    const transitions = Number((await pool.query('select count(*) as n from alert_stream')).rows[0].n);
    return {
      processes,
      messages: N,
      observations: expected,
      publishSeconds: Math.round(publishSeconds * 100) / 100,
      storedSeconds: Math.round(storedSeconds * 100) / 100,
      messagesPerSecond: Math.round(N / storedSeconds),
      observationsPerSecond: Math.round(expected / storedSeconds),
      commits: last,
      alertEvents: transitions,
      evaluation: { commitToStepMs: lag, caughtUpAfterLastStoredMs: caughtUpAfterStoredMs },
    };
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await pool.end();
    await db.drop();
  }
}

const results = [];
try {
  for (const k of COUNTS) results.push(await run(k));
} finally {
  await broker.stop();
}
process.stdout.write(`${JSON.stringify({ node: process.version, cpus: os.cpus().length, broker: BROKER, messages: N, metricsPerMessage: M, runs: results }, null, 2)}\n`);
