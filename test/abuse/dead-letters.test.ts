/**
 * Dead letters stay one per message and keep the message's identity: a payload with 10,000
 * unknown keys is one row listing them (not 10,000 copies of the payload), and two large
 * payloads that share their first bytes stay two rows with their real sizes.
 * Real parts: the machine's Mosquitto and PostgreSQL.
 */
import t from 'tap';
import { startTestPlatform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

t.test('10,000 unknown keys in one 128 KB message: one dead letter listing them', async (t) => {
  const tp = await startTestPlatform({ env: { VIGIE_ALERTING: 'false' } });
  t.teardown(() => tp.stop());
  const metrics: Record<string, number> = { air_temperature: 4.5 };
  for (let i = 0; i < 10_000; i++) metrics[`nokey_${String(i).padStart(5, '0')}`] = i;
  const payload = JSON.stringify({ ts: Date.now() - 1000, metrics });
  t.ok(payload.length > 128_000 && payload.length < 256 * 1024, `payload of ${payload.length} bytes`);
  const pub = await tp.publisher();
  await pub.publishAsync(`${tp.prefix}vigie/keys-1/telemetry`, payload, { qos: 1 });
  const rows = await waitFor(async () => {
    const r = await tp.platform.pool.query(`select code, field, reason, occurrences, payload_size, length(payload) as kept from dead_letters`);
    return r.rowCount ? r.rows : undefined;
  }, 15_000, 'the dead letter');
  t.equal(rows.length, 1, 'one dead letter for the message');
  t.equal(rows[0].code, 'unknown_metric');
  t.match(rows[0].field, /^metrics.nokey_00000,metrics.nokey_00001,.*,metrics.nokey_00049,\+9950$/, 'the refused keys listed (50 by name, the rest counted)');
  t.match(rows[0].reason, /^10000 keys refused/);
  t.equal(rows[0].payload_size, payload.length, 'the real payload size');
  t.ok(rows[0].kept <= 16 * 1024, 'one truncated copy of the payload');
  const obs = await waitFor(async () => (await tp.platform.pool.query(`select value from observations where device_id = 'keys-1'`)).rows[0]);
  t.equal(obs.value, 4.5, 'the known key of the same message is stored');
});

t.test('two large payloads with the same first 16 KB: two dead letters with their real sizes', async (t) => {
  const tp = await startTestPlatform({ env: { VIGIE_ALERTING: 'false', VIGIE_DEAD_LETTER_MAX_BYTES: '1024' } });
  t.teardown(() => tp.stop());
  const head = 'x'.repeat(4096); // not JSON: invalid_json, the same reason words for both
  const a = `${head}${'a'.repeat(10_000)}`;
  const b = `${head}${'b'.repeat(20_000)}`;
  const pub = await tp.publisher();
  for (const p of [a, b, a]) await pub.publishAsync(`${tp.prefix}vigie/big-1/telemetry`, p, { qos: 1 });
  const rows = await waitFor(async () => {
    const r = await tp.platform.pool.query(`select payload_size, occurrences, length(payload) as kept from dead_letters order by payload_size`);
    return r.rows.reduce((n, row) => n + row.occurrences, 0) === 3 ? r.rows : undefined;
  }, 15_000, 'three occurrences');
  t.same(
    rows.map((r) => [r.payload_size, r.occurrences, r.kept]),
    [
      [a.length, 2, 1024],
      [b.length, 1, 1024],
    ],
    'two identities (whole-payload hash), each with its real size; the repeat of a is counted on its row',
  );
});
