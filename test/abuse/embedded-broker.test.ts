/**
 * The embedded broker under bursts: every message it acknowledged is stored, with no reconnect
 * of anyone, and a QoS 1 subscriber of its own (a persistent session, stored in LevelDB) gets
 * every message too. Real parts: aedes with aedes-persistence-level, the machine's PostgreSQL,
 * real MQTT clients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import t from 'tap';
import { publishWindow } from '../helpers/publisher.ts';
import { startTestPlatform, TEST_BROKER_LOGIN } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const CLIENTS = 40;
const PER_CLIENT = 250;

t.test(`${CLIENTS} clients x ${PER_CLIENT} messages, each from a new device: all acknowledged are stored and delivered`, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigie-burst-'));
  const tp = await startTestPlatform({ env: { MQTT_URL: '', VIGIE_MQTT_PORT: '0', VIGIE_ALERTING: 'false' }, dataDir });
  t.teardown(async () => {
    await tp.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const watcher = await mqtt.connectAsync(tp.platform.mqttUrl, { clientId: `watch-${tp.prefix.slice(0, -1)}`, clean: false, ...TEST_BROKER_LOGIN });
  t.teardown(() => watcher.endAsync());
  const seen = new Set<string>();
  watcher.on('message', (topic, payload) => seen.add(`${topic} ${payload.toString()}`));
  await watcher.subscribeAsync(`${tp.prefix}vigie/+/telemetry`, { qos: 1 });

  const ts = Date.now() - 60_000;
  const results = await Promise.all(
    Array.from({ length: CLIENTS }, (_, c) =>
      publishWindow(
        tp.platform.mqttUrl,
        Array.from({ length: PER_CLIENT }, (_, i) => ({ topic: `${tp.prefix}vigie/new-${c}-${i}/telemetry`, payload: JSON.stringify({ ts, metrics: { air_temperature: c + i / 1000 } }) })),
        100,
      ),
    ),
  );
  const total = CLIENTS * PER_CLIENT;
  t.equal(results.reduce((n, r) => n + r.acked, 0), total, `${total} acknowledged`);
  t.equal(results.reduce((n, r) => n + r.reconnects, 0), 0, 'no publisher reconnected');
  const { rows } = await tp.platform.pool.query(`select count(*)::int as n, count(distinct device_id)::int as d from observations`);
  t.same(rows[0], { n: total, d: total }, 'every acknowledged message is stored, at once (no reconnect needed)');
  await waitFor(() => seen.size >= total, 30_000, `the subscriber to get ${total} messages (has ${seen.size})`).catch(() => undefined);
  t.equal(seen.size, total, 'the QoS 1 subscriber of the embedded broker got every message (no out-of-order enqueue skipped)');
});
