/**
 * Poison messages cost themselves only: a topic holding a NUL byte (which PostgreSQL text cannot
 * store, SQLSTATE 22021) becomes a dead letter while the messages committed with it are stored
 * and acknowledged; a store that refuses a row is isolated without dropping its neighbours; and a
 * commit that keeps failing turns /ready red and counts in the metrics.
 * Real parts: the machine's PostgreSQL, the embedded aedes broker, real MQTT clients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { createTestDatabase } from '../helpers/database.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';
import { RunningSink } from '../../ingest/running-sink.ts';
import { noopInstruments } from '../../ingest/instruments.ts';
import type { ProcessedMessage } from '../../ingest/process-message.ts';
import { createLogger } from '../../services/logger.ts';
import { migrate } from '../../services/store/migrate.ts';
import { isContentError } from '../../services/store/pool.ts';
import { writeBatch } from '../../services/store/write-batch.ts';

/** The embedded broker over the machine's PostgreSQL: the path where aedes lets a NUL topic in. */
const EMBEDDED_BROKER = { MQTT_URL: '', VIGIE_MQTT_PORT: '0', VIGIE_BATCH_MS: '300', VIGIE_ALERTING: 'false' };

t.test('a NUL byte in a topic: dead letter for it, its batch-mates stored and acknowledged', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigie-poison-'));
  const tp = await startTestPlatform({ env: EMBEDDED_BROKER, dataDir });
  t.teardown(async () => {
    await tp.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const pub = await tp.publisher();
  const good = (i: number) => JSON.stringify({ ts: Date.now() - 5000 + i, metrics: { air_temperature: 10 + i } });
  const acks = [
    ...Array.from({ length: 10 }, (_, i) => pub.publishAsync(`${tp.prefix}vigie/good-${i}/telemetry`, good(i), { qos: 1 })),
    pub.publishAsync(`${tp.prefix}vigie/bad\u0000id/telemetry`, good(99), { qos: 1 }),
    ...Array.from({ length: 10 }, (_, i) => pub.publishAsync(`${tp.prefix}vigie/good-${i + 10}/telemetry`, good(i + 10), { qos: 1 })),
  ];
  await Promise.all(acks);
  t.pass('all 21 messages acknowledged, without a reconnect');
  const { rows } = await tp.platform.pool.query(`select count(*)::int as n from observations`);
  t.equal(rows[0].n, 20, 'the 20 innocent messages are stored (acknowledged after their commit)');
  const dl = await tp.platform.pool.query(`select topic, code, device_id from dead_letters`);
  t.equal(dl.rowCount, 1, 'one dead letter');
  t.match(dl.rows[0], { topic: 'vigie/bad\\x00id/telemetry', code: 'invalid_device_id' }, 'its topic kept with the byte escaped');
  const devices = await tp.platform.pool.query(`select id from devices where id like 'bad%'`);
  t.equal(devices.rowCount, 0, 'no device is invented from the bad id');
  const ready = await tp.platform.app.inject({ method: 'GET', url: '/ready' });
  t.equal(ready.statusCode, 200);
});

t.test('the store refuses one row: isolated, dead-lettered with storable text, neighbours stored', async (t) => {
  const db = await createTestDatabase('poison');
  t.teardown(() => db.drop());
  const pool = new pg.Pool({ connectionString: db.url });
  t.teardown(() => pool.end());
  const logger = createLogger('silent');
  await migrate(pool, { logger });
  let failures = 0;
  const sink = new RunningSink({
    sink: { write: (b) => writeBatch(pool, b), isContentError },
    maxBatchItems: 1000,
    maxBatchDelayMs: 50,
    maxInflightMessages: 1000,
    maxConcurrentCommits: 2,
    retryMinMs: 10,
    retryMaxMs: 50,
    deadLetterMaxBytes: 1024,
    logger,
    instruments: { ...noopInstruments, commitFailures: { inc: () => void failures++ } },
  });
  const now = new Date();
  const message = (deviceId: string, i: number) => {
    const processed: ProcessedMessage = {
      observations: [{ deviceId, metric: 'air_temperature', channel: '', time: new Date(now.getTime() - i * 1000), receivedAt: now, value: i, quality: 0 }],
      deadLetters: [],
      deviceId,
    };
    return { processed, message: { topic: `vigie/${deviceId}/telemetry`, payload: Buffer.from(`{"i":${i}}`), receivedAt: now } };
  };
  const acked: number[] = [];
  for (let i = 0; i < 40; i++) {
    // Message 17 slipped past validation with a NUL in its device id and in its topic.
    const m = message(i === 17 ? 'evil\u0000one' : `dev-${i % 5}`, i);
    sink.push(m.processed, m.message, () => acked.push(i));
  }
  await sink.flush();
  t.equal(acked.length, 40, 'all 40 acknowledged, the poison once it is dead-lettered');
  t.same(acked, [...acked].sort((a, b) => a - b), 'in arrival order');
  const obs = await pool.query(`select count(*)::int as n from observations`);
  t.equal(obs.rows[0].n, 39, 'the 39 innocent observations are stored');
  const dl = await pool.query(`select topic, device_id, code, reason from dead_letters`);
  t.equal(dl.rowCount, 1);
  t.match(dl.rows[0], { code: 'store_rejected', topic: 'vigie/evil\\x00one/telemetry', device_id: 'evil\\x00one', reason: /SQLSTATE 22021/ });
  t.ok(failures > 0, `refused contents count as commit failures (${failures})`);
  t.equal(sink.failingSince, null, 'not failing any more');
  await sink.close();
});

t.test('a commit that keeps failing shows in /ready and in the metrics, then recovers', async (t) => {
  const tp = await startTestPlatform({ env: { VIGIE_RETRY_MIN_MS: '50', VIGIE_RETRY_MAX_MS: '200', VIGIE_ALERTING: 'false' } });
  t.teardown(() => tp.stop());
  const { pool } = tp.platform;
  await pool.query(`alter table observation_values rename to observation_values_away`);
  const pub = await tp.publisher();
  const acked = pub.publishAsync(`${tp.prefix}vigie/ready-1/telemetry`, JSON.stringify({ ts: Date.now(), metrics: { air_temperature: 3 } }), { qos: 1 });
  const red = await waitFor(async () => {
    const r = await tp.platform.app.inject({ method: 'GET', url: '/ready' });
    return r.statusCode === 503 ? r.json() : undefined;
  }, 10_000, '/ready to turn red');
  t.match(red, { ready: false, checks: { commits: false, database: true } }, '/ready names the failing commits, though `select 1` works');
  const metrics = (await tp.platform.app.inject({ method: 'GET', url: '/metrics' })).body;
  const failures = Number(/^vigie_commit_failures_total (\S+)$/m.exec(metrics)?.[1]);
  t.ok(failures > 0, `vigie_commit_failures_total = ${failures}`);
  await pool.query(`alter table observation_values_away rename to observation_values`);
  await acked;
  await waitFor(async () => (await tp.platform.app.inject({ method: 'GET', url: '/ready' })).statusCode === 200, 10_000, '/ready to recover');
  const { rows } = await pool.query(`select count(*)::int as n from observations`);
  t.equal(rows[0].n, 1, 'the held message is stored once the store is back');
});
