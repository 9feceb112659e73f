/**
 * The embedded defaults keep the promise of an external broker and database: a message the
 * broker acknowledged is stored, even when Vigie and its embedded PostgreSQL are killed with
 * SIGKILL in the middle of a flood and restarted on the same data directory and ports.
 * Real parts: `vigie start` as a child process (aedes + embedded PostgreSQL), a real MQTT client.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { startChildPlatform } from '../helpers/child-platform.ts';
import { publishWindow, type Message } from '../helpers/publisher.ts';
import { freePort } from '../../services/embedded/free-port.ts';

const N = 20_000;
const DEVICES = 20;

t.test(`kill -9 (process group) 4 s into ${N} QoS 1 messages: every acknowledged message is stored`, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigie-kill-'));
  chmodSync(dataDir, 0o755);
  const mqttPort = await freePort();
  const pgPort = await freePort();
  const env = { VIGIE_DATA_DIR: dataDir, VIGIE_MQTT_PORT: String(mqttPort), VIGIE_EMBEDDED_PG_PORT: String(pgPort), VIGIE_ALERTING: 'false', VIGIE_LOG_LEVEL: 'warn' };
  const base = Date.now() - 3_600_000;
  const messages: Message[] = Array.from({ length: N }, (_, i) => ({
    topic: `vigie/kill-${i % DEVICES}/telemetry`,
    payload: JSON.stringify({ ts: base + Math.floor(i / DEVICES) * 10, metrics: { air_temperature: (i % 400) / 10 } }),
  }));

  const first = await startChildPlatform(env, 120_000, { group: true });
  t.teardown(() => {
    if (first.child.exitCode === null && first.child.signalCode === null) first.killGroup();
  });
  const published = publishWindow(`mqtt://127.0.0.1:${mqttPort}`, messages, 100, 'kill-publisher');
  await new Promise((r) => setTimeout(r, 4000));
  const before = await first.metric('vigie_messages_received_total');
  first.killGroup();
  await first.exited;
  t.ok(before > 0 && before < N, `killed after ${before} messages were received`);

  const second = await startChildPlatform(env, 120_000, { group: true });
  t.teardown(async () => {
    second.child.kill('SIGTERM');
    await second.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });
  const { acked, reconnects, resent } = await published;
  t.equal(acked, N, `the publisher saw all ${N} acknowledged (after ${reconnects} reconnects, ${resent} sends cut by the kill and repeated)`);
  const { password } = JSON.parse(readFileSync(path.join(dataDir, 'embedded-postgres.json'), 'utf8')) as { password: string };
  const client = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'vigie', password, database: 'vigie' });
  await client.connect();
  t.teardown(() => client.end());
  const { rows } = await client.query(`select count(*)::int as n, count(distinct device_id)::int as devices from observations`);
  t.same(rows[0], { n: N, devices: DEVICES }, `all ${N} acknowledged messages are stored, once each`);
});
