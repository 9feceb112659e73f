/**
 * Start-up and memory of `vigie start` on the embedded defaults:
 * - an MQTT packet over the size limit is refused at the broker before its body is buffered
 *   (three 64 MB PUBLISHes at once leave the resident memory where it was), /health answering;
 * - a second Vigie on the same data directory refuses with a clear message, the first keeps running;
 * - `vigie backtest` reads the embedded database of VIGIE_DATA_DIR, with Vigie running or not.
 * Real parts: `vigie start` child processes, the embedded broker, the machine's PostgreSQL and
 * an embedded PostgreSQL, real MQTT clients.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import t from 'tap';
import { startChildPlatform } from '../helpers/child-platform.ts';
import { authHeaders, TEST_BROKER_LOGIN } from '../helpers/platform.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/wait.ts';
import { freePort } from '../../services/embedded/free-port.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/vigie.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function tempDir(label: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `vigie-${label}-`));
  chmodSync(dir, 0o755);
  return dir;
}

t.test('oversized MQTT packets are refused at the broker; memory stays put, /health answers', async (t) => {
  const db = await createTestDatabase('oversize');
  const dataDir = tempDir('oversize');
  const mqttPort = await freePort();
  const vigie = await startChildPlatform({ DATABASE_URL: db.url, VIGIE_DATA_DIR: dataDir, VIGIE_MQTT_PORT: String(mqttPort), VIGIE_ALERTING: 'false', VIGIE_LOG_LEVEL: 'warn' });
  t.teardown(async () => {
    vigie.child.kill('SIGTERM');
    await vigie.exited;
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const url = `mqtt://127.0.0.1:${mqttPort}`;
  const before = await vigie.metric('vigie_process_process_resident_memory_bytes');
  const huge = Buffer.alloc(64 * 1024 * 1024, 0x41);
  const attackers = await Promise.all([1, 2, 3].map((i) => mqtt.connectAsync(url, { clientId: `huge-${i}`, reconnectPeriod: 0, ...TEST_BROKER_LOGIN })));
  const closed = attackers.map((c) => new Promise<void>((resolve) => c.once('close', () => resolve())));
  for (const c of attackers) c.publish('vigie/huge-1/telemetry', huge, { qos: 1 }, () => {});
  let peak = before;
  let healthy = 0;
  const watch = setInterval(() => {
    void vigie.metric('vigie_process_process_resident_memory_bytes').then((rss) => (peak = Math.max(peak, rss)));
    void fetch(`${vigie.url}/health`).then((r) => r.ok && healthy++);
  }, 100);
  // Bounded: a broker that swallows the packets would leave the connections open.
  const allClosed = await Promise.race([Promise.all(closed).then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20_000))]);
  await new Promise((r) => setTimeout(r, 1000));
  clearInterval(watch);
  for (const c of attackers) c.end(true);
  t.ok(allClosed, 'the broker closed all three connections');
  t.ok(healthy > 0, `/health answered during the attack (${healthy} times)`);
  const growth = peak - before;
  t.ok(growth < 100 * 1024 * 1024, `resident memory grew by ${Math.round(growth / 1048576)} MiB for 192 MiB sent (bound 100 MiB)`);
  t.match(vigie.output(), /over the size limit/, 'the refusal is logged with its reason');

  const ok = await mqtt.connectAsync(url, { clientId: 'small-1', ...TEST_BROKER_LOGIN });
  await ok.publishAsync('vigie/small-1/telemetry', JSON.stringify({ ts: Date.now() - 1000, metrics: { air_temperature: 2 } }), { qos: 1 });
  await ok.endAsync();
  const r = await fetch(`${vigie.url}/api/v1/observations?device=small-1&metric=air_temperature`, { headers: authHeaders() });
  t.equal(((await r.json()) as { items: unknown[] }).items.length, 1, 'an ordinary message still goes through');
});

t.test('a second Vigie on the same data directory refuses; the first keeps running', async (t) => {
  const db = await createTestDatabase('lock');
  const dataDir = tempDir('lock');
  const first = await startChildPlatform({ DATABASE_URL: db.url, VIGIE_DATA_DIR: dataDir, VIGIE_MQTT_PORT: String(await freePort()), VIGIE_ALERTING: 'false' });
  t.teardown(async () => {
    first.child.kill('SIGTERM');
    await first.exited;
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const second = await run(['start'], { DATABASE_URL: db.url, VIGIE_DATA_DIR: dataDir, VIGIE_MQTT_PORT: String(await freePort()), VIGIE_HTTP_PORT: String(await freePort()), VIGIE_ALERTING: 'false' });
  t.equal(second.code, 1, 'the second exits with an error');
  t.match(second.stderr, new RegExp(`data directory .* is in use by another Vigie \\(pid ${first.child.pid}`), 'and says why, naming the first');
  t.equal((await fetch(`${first.url}/ready`)).status, 200, 'the first is untouched');
});

t.test('vigie backtest reads the embedded database of VIGIE_DATA_DIR, running or not', async (t) => {
  const dataDir = tempDir('backtest');
  const mqttPort = await freePort();
  const env = { VIGIE_DATA_DIR: dataDir, VIGIE_MQTT_PORT: String(mqttPort), VIGIE_ALERTING: 'false' };
  const vigie = await startChildPlatform(env, 120_000);
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) {
      vigie.child.kill('SIGTERM');
      await vigie.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'bt-pub', ...TEST_BROKER_LOGIN });
  const start = Date.now() - 3_600_000;
  for (let i = 0; i < 12; i++) {
    await pub.publishAsync('vigie/bt-1/telemetry', JSON.stringify({ ts: start + i * 300_000, metrics: { co2: i < 6 ? 600 : 1600 } }), { qos: 1 });
  }
  await pub.endAsync();
  const rules = path.join(dataDir, 'rule.yaml');
  writeFileSync(rules, 'rules:\n  - id: co2-high\n    name: CO2 high\n    severity: warning\n    condition: { type: threshold, metric: co2, op: above, value: 1500, clear: 1300 }\n');
  const args = ['backtest', '--file', rules, '--from', new Date(start - 60_000).toISOString(), '--to', new Date().toISOString(), '--json'];
  const cleanEnv = { DATABASE_URL: '', MQTT_URL: '', VIGIE_DATA_DIR: dataDir };
  const running = await run(args, cleanEnv);
  t.equal(running.code, 0, `runs while Vigie runs: ${running.stderr}`);
  t.match(JSON.parse(running.stdout), { ruleId: 'co2-high', observations: 12, alerts: [{ deviceId: 'bt-1' }] }, 'prints the result as JSON on stdout');
  t.match(running.stdout, /bt-1/, 'the device fired');
  vigie.child.kill('SIGTERM');
  await vigie.exited;
  stopped = true;
  const alone = await run(args, cleanEnv);
  t.equal(alone.code, 0, `runs with Vigie stopped (starts the embedded PostgreSQL itself): ${alone.stderr}`);
  t.same(JSON.parse(alone.stdout), JSON.parse(running.stdout), 'the same answer');
  const empty = await run(args, { ...cleanEnv, VIGIE_DATA_DIR: tempDir('nothing') });
  t.equal(empty.code, 2);
  t.match(empty.stderr, /no embedded database in .*DATABASE_URL/, 'an empty data directory is named, with the way out');
});
