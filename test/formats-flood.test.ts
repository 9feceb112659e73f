/**
 * A flood of garbage on one topic must not starve valid traffic on the others (one misbehaving
 * device must not starve everyone else): garbage costs a
 * failed parse and a dead-letter row, never a retry, a blocked acknowledgement or a crash.
 * How fast it drains and how long valid messages wait meanwhile are figures of
 * `npm run bench:flood` (docs/wire-formats.md, "Robustness"), not assertions here.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const FLOOD = 3000;
const VALID = 40;

const tp = await startTestPlatform();
t.teardown(() => tp.stop());
const P = tp.prefix;
const count = async (sql: string) => (await tp.platform.pool.query(sql)).rows[0].n as number;

t.test('valid traffic published during a garbage flood is stored, and every garbage message is dead-lettered', async (t) => {
  const flooder = await tp.publisher();
  const victim = await tp.publisher();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < FLOOD; i++) {
    // Distinct garbage each time: no dead-letter folding helps.
    pending.push(flooder.publishAsync(`${P}vigie/flood-garbage/senml`, randomBytes(64 + (i % 128)), { qos: 1 }));
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  const base = Math.floor(Date.now() / 1000);
  for (let i = 0; i < VALID; i++) {
    pending.push(victim.publishAsync(`${P}vigie/flood-victim/senml`, JSON.stringify([{ bver: 26, bt: base + i, n: 'co2', u: 'ppm', v: 400 + i }]), { qos: 1 }));
  }
  await Promise.all(pending);
  await waitFor(async () => (await count(`select count(*)::int as n from observations where device_id = 'flood-victim'`)) === VALID, 60_000, 'the valid messages');
  await waitFor(
    async () => (await count(`select coalesce(sum(occurrences), 0)::int as n from dead_letters where topic = 'vigie/flood-garbage/senml'`)) === FLOOD,
    60_000,
    'the garbage dead letters',
  );
  const { rows } = await tp.platform.pool.query(`select value from observations where device_id = 'flood-victim' order by time`);
  t.same(rows.map((r) => r.value), Array.from({ length: VALID }, (_, i) => 400 + i), 'every valid value stored, once');
  t.equal(await count(`select count(*)::int as n from dead_letters where device_id = 'flood-victim'`), 0, 'no valid message was rejected');
  const codes = await tp.platform.pool.query(`select distinct code from dead_letters where topic = 'vigie/flood-garbage/senml'`);
  t.ok(codes.rows.length > 0 && codes.rows.every((r) => ['invalid_json', 'invalid_envelope'].includes(r.code)), `garbage is reported as such (${codes.rows.map((r) => r.code).join(', ')})`);
  t.same((await tp.get<{ ready: boolean }>('/ready')).body.ready, true, 'the platform is still ready');
});
