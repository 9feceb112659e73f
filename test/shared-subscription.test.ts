/**
 * Scaling out: two Vigie processes in one MQTT 5 shared-subscription group on the same
 * database split the messages between them, and every message is stored exactly once.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { startTestPlatform } from './helpers/platform.ts';
import { createTestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';

const db = await createTestDatabase('shared');
const prefix = `s${randomBytes(4).toString('hex')}/`;
const group = `g${randomBytes(3).toString('hex')}`;
const common = { db, prefix, env: { VIGIE_MQTT_SHARED_GROUP: group, VIGIE_MQTT_PROTOCOL: '5' } };
const a = await startTestPlatform({ ...common, env: { ...common.env, VIGIE_MQTT_CLIENT_ID: `${group}-a` } });
const b = await startTestPlatform({ ...common, env: { ...common.env, VIGIE_MQTT_CLIENT_ID: `${group}-b` } });
t.teardown(async () => {
  await a.stop();
  await b.stop();
  await db.drop();
});

const received = async (p: typeof a) => {
  const text = (await p.platform.app.inject({ method: 'GET', url: '/metrics' })).body;
  return Number(/^vigie_messages_received_total (\S+)$/m.exec(text)?.[1] ?? NaN);
};

t.test('messages are split between the group members and stored once', async (t) => {
  const pub = await a.publisher();
  const n = 200;
  const base = Date.now() - 10 * 60_000;
  for (let i = 0; i < n; i++) {
    await pub.publishAsync(`${prefix}vigie/shared-${i % 10}/telemetry`, JSON.stringify({ ts: base + i, metrics: { co2: 400 + i } }), { qos: 1 });
  }
  const count = async () => (await a.platform.pool.query('select count(*)::int as n from observations')).rows[0].n as number;
  await waitFor(async () => (await count()) === n, 20_000, 'all messages stored');
  const [ra, rb] = [await received(a), await received(b)];
  t.equal(ra + rb, n, 'each message was delivered to one member only');
  t.ok(ra > 0 && rb > 0, `both members took a share (${ra} / ${rb})`);
  t.equal(await count(), n);
});
