/**
 * Nothing lost: a Vigie killed between receipt and commit acknowledged nothing, so the broker
 * redelivers to the persistent session and the next Vigie stores every message exactly once.
 * A graceful stop (SIGTERM) commits what it holds before acknowledging and exiting.
 * Run against the machine's Mosquitto + PostgreSQL, and against the embedded defaults.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import t from 'tap';
import { startChildPlatform } from './helpers/child-platform.ts';
import { createTestDatabase } from './helpers/database.ts';
import { publishWindow } from './helpers/publisher.ts';
import { authHeaders, TEST_MQTT_URL } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

/** Batching that never commits on its own: messages stay received-but-uncommitted. */
const HOLD = { VIGIE_BATCH_MS: '600000', VIGIE_BATCH_SIZE: '100000' };

async function publishAll(url: string, topic: (i: number) => string, n: number) {
  const pub = await mqtt.connectAsync(url, { clientId: `pub-${randomBytes(4).toString('hex')}` });
  for (let i = 0; i < n; i++) {
    await pub.publishAsync(topic(i), JSON.stringify({ ts: Date.now() - 1000 + i, metrics: { air_temperature: i / 10 } }), { qos: 1 });
  }
  await pub.endAsync();
}

/** Waits until the platform has received messages and stopped receiving more. */
async function receivedSettled(metric: () => Promise<number>): Promise<number> {
  let last = -1;
  return waitFor(async () => {
    const now = await metric();
    const settled = now > 0 && now === last;
    last = now;
    await new Promise((r) => setTimeout(r, 300));
    return settled ? now : undefined;
  }, 30_000, 'messages to be received');
}

t.test('Mosquitto + PostgreSQL: SIGKILL before commit loses nothing and duplicates nothing', async (t) => {
  const db = await createTestDatabase('crash');
  t.teardown(() => db.drop());
  const prefix = `c${randomBytes(4).toString('hex')}/`;
  const env = { DATABASE_URL: db.url, MQTT_URL: TEST_MQTT_URL, VIGIE_TOPIC_PREFIX: prefix, VIGIE_MQTT_CLIENT_ID: `crash-${prefix.slice(1, 9)}` };
  const pool = new pg.Pool({ connectionString: db.url });
  t.teardown(() => pool.end());
  const count = async () => (await pool.query(`select count(*)::int as n from observations`)).rows[0].n as number;

  const first = await startChildPlatform({ ...env, ...HOLD });
  const n = 60;
  await publishAll(TEST_MQTT_URL, (i) => `${prefix}vigie/crash-${i % 6}/telemetry`, n);
  const received = await receivedSettled(() => first.metric('vigie_messages_received_total'));
  t.ok(received > 0, `the first Vigie received ${received} messages`);
  t.equal(await first.metric('vigie_inflight_messages'), received, 'all of them are held, unacknowledged');
  t.equal(await count(), 0, 'nothing was committed before the kill');
  first.child.kill('SIGKILL');
  await first.exited;

  const second = await startChildPlatform(env);
  t.teardown(async () => {
    second.child.kill('SIGTERM');
    await second.exited;
  });
  const stored = await waitFor(async () => ((await count()) >= n ? count() : undefined), 30_000, 'redelivered messages');
  t.equal(stored, n, 'every message is stored once after redelivery');
});

t.test('Mosquitto + PostgreSQL: SIGTERM commits what is held, then exits 0', async (t) => {
  const db = await createTestDatabase('graceful');
  t.teardown(() => db.drop());
  const prefix = `g${randomBytes(4).toString('hex')}/`;
  const env = { DATABASE_URL: db.url, MQTT_URL: TEST_MQTT_URL, VIGIE_TOPIC_PREFIX: prefix, VIGIE_MQTT_CLIENT_ID: `grace-${prefix.slice(1, 9)}` };
  const pool = new pg.Pool({ connectionString: db.url });
  t.teardown(() => pool.end());

  const platform = await startChildPlatform({ ...env, ...HOLD });
  await publishAll(TEST_MQTT_URL, (i) => `${prefix}vigie/grace-${i % 3}/telemetry`, 15);
  const received = await receivedSettled(() => platform.metric('vigie_messages_received_total'));
  platform.child.kill('SIGTERM');
  t.equal(await platform.exited, 0, 'clean exit');
  const { rows } = await pool.query(`select count(*)::int as n from observations`);
  t.equal(rows[0].n, received, 'everything received was committed before exit');
});

t.test('embedded PostgreSQL + broker: SIGKILL before commit loses nothing, data survives restart', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigie-crash-'));
  const mqttPort = String(10_000 + Math.floor(Math.random() * 50_000));
  // Broker authentication is not what this test is about: pinned off (anonymous publishers
  // on loopback), as test/broker-auth.test.ts pins it on.
  const env = { VIGIE_DATA_DIR: dataDir, VIGIE_MQTT_PORT: mqttPort, VIGIE_MQTT_AUTH: 'off' };
  const brokerUrl = `mqtt://127.0.0.1:${mqttPort}`;

  const first = await startChildPlatform({ ...env, ...HOLD }, 120_000);
  // The embedded broker acknowledges only after the commit (services/embedded/broker.ts), so
  // the publisher holds all 20 unacknowledged and sends them again to the next Vigie.
  const published = publishWindow(
    brokerUrl,
    Array.from({ length: 20 }, (_, i) => ({ topic: `vigie/emb-${i % 4}/telemetry`, payload: JSON.stringify({ ts: Date.now() - 1000 + i, metrics: { air_temperature: i / 10 } }) })),
    20,
  );
  const received = await receivedSettled(() => first.metric('vigie_messages_received_total'));
  t.equal(received, 20);
  first.child.kill('SIGKILL');
  await first.exited;

  // The orphaned embedded PostgreSQL is stopped and restarted by the next Vigie.
  const second = await startChildPlatform(env, 120_000);
  t.teardown(async () => {
    second.child.kill('SIGTERM');
    await second.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });
  t.equal((await published).acked, 20, 'every message acknowledged, by the second Vigie');
  const items = await waitFor(async () => {
    const r = await fetch(`${second.url}/api/v1/observations?limit=100&metric=air_temperature`, { headers: authHeaders() });
    const body = (await r.json()) as { items: unknown[] };
    return body.items.length >= 20 ? body.items : undefined;
  }, 30_000, 'redelivered messages in the embedded store');
  t.equal(items.length, 20, 'all 20 stored once');
});
