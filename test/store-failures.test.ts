/**
 * The running sink against real store failures: an outage is retried without acknowledging
 * anything, and a message the database refuses for its content is isolated as a dead letter
 * instead of blocking everyone behind it.
 */
import t from 'tap';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const tp = await startTestPlatform({ env: { VIGIE_RETRY_MIN_MS: '50', VIGIE_RETRY_MAX_MS: '200', VIGIE_BATCH_MS: '20' } });
t.teardown(() => tp.stop());
const pub = await tp.publisher();
const pool = tp.platform.pool;
const metric = async (name: string) => {
  const text = (await tp.platform.app.inject({ method: 'GET', url: '/metrics' })).body;
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
};
const stored = async (device: string) =>
  (await pool.query(`select count(*)::int as n from observations where device_id = $1`, [device])).rows[0].n as number;

t.test('a store outage is retried; nothing is acknowledged until the commit succeeds', async (t) => {
  const failuresBefore = await metric('vigie_commit_failures_total');
  await pool.query('alter table observation_values rename to observation_values_away');
  await pub.publishAsync(`${tp.prefix}vigie/outage-1/telemetry`, JSON.stringify({ metrics: { air_temperature: 3 } }), { qos: 1 });
  await waitFor(async () => (await metric('vigie_commit_failures_total')) > failuresBefore + 2, 15_000, 'failed commits');
  t.equal(await metric('vigie_inflight_messages'), 1, 'the message is held, unacknowledged');
  await pool.query('alter table observation_values_away rename to observation_values');
  await waitFor(async () => (await stored('outage-1')) === 1, 15_000, 'the retried commit');
  await waitFor(async () => (await metric('vigie_inflight_messages')) === 0, 5_000, 'the ack');
  t.pass('stored once the store came back, then acknowledged');
});

t.test('a message the store refuses is dead-lettered alone; the rest of its batch is stored', async (t) => {
  await pool.query('alter table observation_values add constraint test_no_666 check (value <> 666)');
  t.teardown(() => pool.query('alter table observation_values drop constraint test_no_666'));
  const now = Date.now();
  // Published back to back so they share one batch.
  await Promise.all([
    pub.publishAsync(`${tp.prefix}vigie/poison-ok-1/telemetry`, JSON.stringify({ ts: now, metrics: { co2: 600 } }), { qos: 1 }),
    pub.publishAsync(`${tp.prefix}vigie/poison-bad/telemetry`, JSON.stringify({ ts: now, metrics: { co2: 666 } }), { qos: 1 }),
    pub.publishAsync(`${tp.prefix}vigie/poison-ok-2/telemetry`, JSON.stringify({ ts: now, metrics: { co2: 700 } }), { qos: 1 }),
  ]);
  const dead = await waitFor(async () => {
    const { rows } = await pool.query(`select code, reason, topic from dead_letters where device_id = 'poison-bad'`);
    return rows.length > 0 ? rows[0] : undefined;
  }, 15_000, 'the poison dead letter');
  t.equal(dead.code, 'store_rejected');
  t.match(dead.reason, /test_no_666/);
  t.equal(dead.topic, 'vigie/poison-bad/telemetry');
  // The split batch's halves commit one after the other: the dead letter can be visible
  // before the last half is; once nothing is in flight, every half is.
  await waitFor(async () => (await metric('vigie_inflight_messages')) === 0, 5_000, 'all acknowledged');
  t.equal(await stored('poison-ok-1'), 1);
  t.equal(await stored('poison-ok-2'), 1);
  t.equal(await stored('poison-bad'), 0);
});
