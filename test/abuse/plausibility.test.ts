/**
 * What comes in must be plausible to count: a notification over the size limit is refused with
 * 413 (the partner retries; nothing truncated is kept), a zone-less time is refused with its
 * reason instead of being guessed, and a forged counter reading (or a meter restarting slightly
 * below its last value) cannot add 128,000 kWh to a building.
 * Real parts: the machine's Mosquitto and PostgreSQL, real HTTP.
 */
import t from 'tap';
import { authHeaders, startTestPlatform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const tp = await startTestPlatform({ env: { VIGIE_ALERTING: 'false', VIGIE_MAX_PAYLOAD_BYTES: String(64 * 1024) } });
t.teardown(() => tp.stop());
const { pool } = tp.platform;

t.test('an NGSI notification over the size limit: 413, nothing kept; under it: 200', async (t) => {
  const entity = (i: number) => ({ id: `urn:ngsi-ld:AirQualityObserved:big-${i}`, type: 'AirQualityObserved', dateObserved: { type: 'DateTime', value: new Date(Date.now() - 60_000).toISOString() }, temperature: { type: 'Number', value: 12.5 } });
  const big = JSON.stringify({ subscriptionId: 'abuse', data: Array.from({ length: 600 }, (_, i) => entity(i)) });
  t.ok(big.length > 64 * 1024, `body of ${big.length} bytes`);
  const refused = await fetch(`${tp.platform.httpUrl}/ngsi/notify`, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders() }, body: big });
  t.equal(refused.status, 413, 'refused: the partner keeps it and retries');
  t.match(await refused.json(), { code: 'VIGIE_ERR_TOO_LARGE' });
  // Without a length announced (chunked), the limit holds while reading.
  const chunked = await fetch(`${tp.platform.httpUrl}/ngsi/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders() },
    body: new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  t.equal(chunked.status, 413, 'chunked too');
  const dl = await pool.query(`select count(*)::int as n from dead_letters`);
  t.equal(dl.rows[0].n, 0, 'no truncated dead letter');
  const small = await fetch(`${tp.platform.httpUrl}/ngsi/notify`, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders() }, body: JSON.stringify({ subscriptionId: 'abuse', data: [entity(1)] }) });
  t.equal(small.status, 200, 'a notification under the limit is taken (answered once committed)');
  const taken = (await small.json()) as { observations: number; deadLetters: number };
  t.equal(taken.observations + taken.deadLetters, 1, 'and accounted for');
});

t.test('a time without a zone is refused with the reason, not guessed', async (t) => {
  const pub = await tp.publisher();
  await pub.publishAsync(`${tp.prefix}vigie/zone-1/telemetry`, JSON.stringify({ ts: '2026-01-15T07:30:00', metrics: { air_temperature: 3 } }), { qos: 1 });
  await pub.publishAsync(`${tp.prefix}vigie/zone-1/telemetry`, JSON.stringify({ ts: new Date(Date.now() - 1000).toISOString(), metrics: { air_temperature: 4 } }), { qos: 1 });
  const dl = await waitFor(async () => (await pool.query(`select code, reason from dead_letters where device_id = 'zone-1'`)).rows[0], 10_000, 'the dead letter');
  t.match(dl, { code: 'invalid_timestamp', reason: /has no time zone: add Z/ });
  const obs = await pool.query(`select value from observations where device_id = 'zone-1'`);
  t.same(obs.rows, [{ value: 4 }], 'the zoned reading is stored, the other is not');
  const api = await tp.platform.app.inject({ method: 'GET', url: '/api/v1/observations?device=zone-1&from=2026-01-15T07:30:00' });
  t.equal(api.statusCode, 400, 'the API refuses a zone-less time too');
  t.match(api.json(), { code: 'VIGIE_ERR_VALIDATION', message: /has no time zone/ });
});

t.test('counters: a forged reading and a meter restarting below its value are flagged, not summed', async (t) => {
  await pool.query(
    `insert into devices (id, kind, domain, registered, period_seconds, building, tags) values
     ('abuse-m1', 'meter', 'buildings', true, 3600, '{"building":"abuse-b"}', '{}'),
     ('abuse-m2', 'meter', 'buildings', true, 3600, '{"building":"abuse-b"}', '{"maxPowerKw":"50"}')`,
  );
  const base = Date.parse('2026-01-12T00:00:00Z');
  const hour = (h: number) => base + h * 3_600_000;
  const readings: Array<[string, number, number]> = [
    ['abuse-m1', hour(0), 128_000],
    ['abuse-m1', hour(1), 128_010], // +10
    ['abuse-m1', hour(2), 5], // forged (or a reset): plausible as use since zero, +5
    ['abuse-m1', hour(3), 128_020], // +128,015 in one hour: beyond any public building, flagged
    ['abuse-m1', hour(4), 128_030], // +10
    ['abuse-m2', hour(0), 1000],
    ['abuse-m2', hour(1), 1040], // +40 (max 50 kW)
    ['abuse-m2', hour(2), 995], // simulator restarted slightly below: not near zero, flagged
    ['abuse-m2', hour(3), 1035], // +40
    ['abuse-m2', hour(4), 1135], // +100 in an hour from a 50 kW meter: flagged
    ['abuse-m2', hour(5), 1], // a real reset to near zero: +1
  ];
  const pub = await tp.publisher();
  for (const [device, ts, energy] of readings) {
    await pub.publishAsync(`${tp.prefix}vigie/${device}/telemetry`, JSON.stringify({ ts, metrics: { energy } }), { qos: 1 });
  }
  await waitFor(async () => (await pool.query(`select count(*)::int as n from observations where device_id like 'abuse-m%'`)).rows[0].n === readings.length, 10_000, 'the readings');
  const r = await tp.get<{ points: Array<{ consumption: number | null }>; devices: Array<{ deviceId: string; consumption: number }>; resets: number; implausible: number }>(
    `/api/v1/buildings/consumption?building=abuse-b&metric=energy&bucket=1d&from=2026-01-12T00:00:00Z&to=2026-01-13T00:00:00Z&tz=UTC`,
  );
  t.equal(r.status, 200);
  t.same(
    r.body.devices.map((d) => [d.deviceId, d.consumption]),
    [
      ['abuse-m1', 25],
      ['abuse-m2', 81],
    ],
    'only deliverable steps are summed',
  );
  t.equal(r.body.points[0]!.consumption, 106, 'the building used 106 kWh that day, not 128,000 more');
  t.equal(r.body.resets, 2, 'two plausible resets (near zero)');
  t.equal(r.body.implausible, 3, 'three steps flagged');
});
