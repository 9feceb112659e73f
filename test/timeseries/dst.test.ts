/**
 * Local-time ambiguity at the autumn DST change, Sunday 25 October 2026 in Europe/Paris: the clock
 * goes back from 03:00 CEST to 02:00 CET, so 02:00-03:00 happens twice. Vigie resolves a local
 * time as schemas/time-zone.ts and the README say (RFC 5545 section 3.3.5): the first occurrence,
 * still on summer time; a time skipped in spring is read with the offset before the gap.
 */
import t from 'tap';
import { localToUtc, zoneOffsetMinutes } from '../../schemas/time-zone.ts';
import { parseTimestamp } from '../../ingest/normalize/timestamp.ts';
import { nativeDecoder } from '../../ingest/decoders/native/index.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const paris = (wall: string) => new Date(localToUtc(Date.parse(`${wall}Z`), 'Europe/Paris')).toISOString();

t.test('offsets either side of the change', async (t) => {
  t.equal(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-10-25T00:59:59Z')), 120, 'summer time until 01:00Z');
  t.equal(zoneOffsetMinutes('Europe/Paris', Date.parse('2026-10-25T01:00:00Z')), 60, 'winter time from 01:00Z');
});

t.test('the repeated hour is its first (summer-time) occurrence', async (t) => {
  t.equal(paris('2026-10-25T01:59:00'), '2026-10-24T23:59:00.000Z', 'before the fold: summer time');
  t.equal(paris('2026-10-25T02:00:00'), '2026-10-25T00:00:00.000Z', '02:00 happens at 00:00Z and 01:00Z: the first');
  t.equal(paris('2026-10-25T02:30:00'), '2026-10-25T00:30:00.000Z', '02:30+02:00, not 02:30+01:00 (01:30Z)');
  t.equal(paris('2026-10-25T02:59:59'), '2026-10-25T00:59:59.000Z');
  t.equal(paris('2026-10-25T03:00:00'), '2026-10-25T02:00:00.000Z', '03:00 happens once, in winter time');
});

t.test('the skipped spring hour is read with the offset before the gap', async (t) => {
  t.equal(paris('2026-03-29T01:59:00'), '2026-03-29T00:59:00.000Z');
  t.equal(paris('2026-03-29T02:30:00'), '2026-03-29T01:30:00.000Z', '02:30 does not exist: +01:00, shown 03:30+02:00');
  t.equal(paris('2026-03-29T03:00:00'), '2026-03-29T01:00:00.000Z');
});

t.test('the ingest applies it to zone-less device times (NGSI local zone)', async (t) => {
  const at = (s: string) => {
    const r = parseTimestamp(s, { assumeZone: 'Europe/Paris' });
    return r.ok ? r.time.toISOString() : r.reason;
  };
  t.equal(at('2026-10-25T02:30:00'), '2026-10-25T00:30:00.000Z');
  t.equal(at('2026-10-25T02:30:00+01:00'), '2026-10-25T01:30:00.000Z', 'an explicit offset picks the second occurrence');
});

t.test('the native format refuses a zone-less time instead of guessing', async (t) => {
  const ctx = { now: new Date(), device: () => undefined, profile: () => undefined, state: () => new Map() };
  const r = nativeDecoder.decode({ topic: 'vigie/tc-1/telemetry', payload: Buffer.from('{"ts":"2026-10-25T02:30:00","metrics":{"battery":80}}'), receivedAt: new Date() }, ctx);
  t.same(r.readings, []);
  t.equal(r.rejects[0]?.code, 'invalid_timestamp');
  t.match(r.rejects[0]?.reason, /has no time zone/);
});

t.test('an NGSI entity dated in the repeated hour, through the real HTTP ingest', async (t) => {
  const tp = await startTestPlatform({ env: { VIGIE_NGSI_LOCAL_ZONE: 'Europe/Paris' } });
  t.teardown(() => tp.stop());
  const res = await tp.platform.app.inject({
    method: 'POST',
    url: '/ngsi/notify',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({
      subscriptionId: 'dst',
      data: [{ id: 'urn:ngsi-ld:IndoorEnvironmentObserved:clg-dst-s1', type: 'IndoorEnvironmentObserved', dateObserved: '2026-10-25T02:30:00', temperature: 18.5 }],
    }),
  });
  t.equal(res.statusCode, 200);
  const row = await waitFor(async () => {
    const { rows } = await tp.platform.pool.query(`select time from observations where device_id = 'clg-dst-s1' and metric = 'air_temperature'`);
    return rows[0] as { time: Date } | undefined;
  });
  t.equal(row.time.toISOString(), '2026-10-25T00:30:00.000Z', 'first occurrence: 02:30+02:00');
});
