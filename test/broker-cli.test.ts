/**
 * Credentials managed with the CLI while Vigie runs (a real `vigie start` child process on the
 * machine's PostgreSQL with its embedded broker): created, used, listed without secrets,
 * revoked (the connected device is dropped), and no secret ever reaches the logs, even at
 * debug level.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions } from 'mqtt';
import t from 'tap';
import { freePort } from '../services/embedded/free-port.ts';
import { startChildPlatform } from './helpers/child-platform.ts';
import { createTestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';
import { authHeaders } from './helpers/platform.ts';

const run = promisify(execFile);
const db = await createTestDatabase('brokercli');
t.teardown(() => db.drop());
const port = await freePort();
const env = { DATABASE_URL: db.url, VIGIE_MQTT_PORT: String(port), VIGIE_MQTT_AUTH: 'on', VIGIE_MQTT_AUTH_CACHE_SECONDS: '1', VIGIE_ALERTING: 'false' };
const child = await startChildPlatform({ ...env, VIGIE_LOG_LEVEL: 'debug' });
t.teardown(async () => {
  child.child.kill('SIGTERM');
  await child.exited;
});
const vigie = async (...args: string[]) => (await run(process.execPath, ['bin/vigie.js', ...args], { env: { ...process.env, ...env, VIGIE_LOG_LEVEL: 'warn' } })).stdout;
const url = `mqtt://127.0.0.1:${port}`;
const connect = (o: IClientOptions) => mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, clientId: `c-${randomBytes(3).toString('hex')}`, ...o });

t.test('create, use, list, revoke; secrets stay out of the logs', async (t) => {
  const created = JSON.parse(await vigie('device', 'credentials', 'create', 'cli-dev-1', '--json')) as { id: string; username: string; password: string };
  t.match(created, { id: /^bc_[0-9a-f]{12}$/, username: 'cli-dev-1', password: /^[A-Za-z0-9_-]{43}$/ });

  const c = await connect({ username: 'cli-dev-1', password: created.password });
  await c.publishAsync('vigie/cli-dev-1/telemetry', JSON.stringify({ ts: new Date().toISOString(), metrics: { co2: 640 } }), { qos: 1 });
  await waitFor(async () => {
    const r = (await (await fetch(`${child.url}/api/v1/devices/cli-dev-1/latest`, { headers: authHeaders() })).json()) as { items: Array<{ value: number }> };
    return r.items[0]?.value === 640;
  }, 15_000, 'the reading');
  const wrong = `${created.password.slice(0, -2)}zz`;
  const refused = await connect({ username: 'cli-dev-1', password: wrong }).then((x) => x.endAsync().then(() => 0), (err: { code?: number }) => err.code);
  t.equal(refused, 4, 'a wrong password is refused');

  const gateway = JSON.parse(await vigie('gateway', 'credentials', 'create', 'cli-edge', '--sparkplug', 'school/gtb', '--json')) as { password: string };
  const listed = await vigie('gateway', 'credentials', 'list', '--json');
  t.match(JSON.parse(listed), [{ username: 'cli-edge', kind: 'gateway', scopes: { sparkplug: ['school/gtb'] } }]);
  t.notMatch(listed, /password|secret|\$scrypt|\$7\$/i, 'a list shows no secret and no hash');

  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  t.match(await vigie('device', 'credentials', 'revoke', 'cli-dev-1'), new RegExp(`revoked ${created.id}`));
  await closed;
  t.pass('the revoked device was disconnected');
  const after = await connect({ username: 'cli-dev-1', password: created.password }).then((x) => x.endAsync().then(() => 0), (err: { code?: number }) => err.code);
  t.equal(after, 4, 'and cannot log in again');

  const logs = child.output();
  t.match(logs, /MQTT connection refused/, 'refusals are logged');
  for (const secret of [created.password, wrong, gateway.password]) t.notOk(logs.includes(secret), 'no secret in the logs');
});
