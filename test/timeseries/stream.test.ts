/** SSE live stream end to end: MQTT -> commit -> /api/v1/stream, filters, heartbeats, resume. */
import t from 'tap';
import { startTestPlatform } from '../helpers/platform.ts';
import { openSse, type SseFrame } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

const tp = await startTestPlatform({ env: { VIGIE_STREAM_HEARTBEAT_MS: '200', VIGIE_STREAM_REPLAY: '1000' } });
t.teardown(() => tp.stop());
const pub = await tp.publisher();
const send = (id: string, metrics: Record<string, number>) =>
  pub.publishAsync(`${tp.prefix}vigie/${id}/telemetry`, JSON.stringify({ ts: new Date().toISOString(), metrics }), { qos: 1 });
const observations = (frames: SseFrame[]) => frames.filter((f) => f.event === 'observation').map((f) => ({ id: f.id!, ...JSON.parse(f.data!) }));

t.test('filtered live observations, heartbeats, and resumption with Last-Event-ID', async (t) => {
  const base = `${tp.platform.httpUrl}/api/v1/stream`;
  const roads = await openSse(`${base}?domain=roads&metric=surface_temperature`);
  t.equal(roads.status, 200);
  t.match(roads.headers['content-type'], /text\/event-stream/);
  const one = await openSse(`${base}?device=clg-1`);

  await send('rws-1', { surface_temperature: -2.5, air_temperature: 1 });
  await send('clg-1', { co2: 900 });
  await send('rws-1', { surface_temperature: -2.7 });

  const got = await waitFor(() => (observations(roads.frames).length >= 2 ? observations(roads.frames) : undefined));
  t.same(got.map((o) => [o.deviceId, o.metric, o.value, o.unit, o.domain]), [
    ['rws-1', 'surface_temperature', -2.5, '°C', 'roads'],
    ['rws-1', 'surface_temperature', -2.7, '°C', 'roads'],
  ]);
  const clg = await waitFor(() => (observations(one.frames).length >= 1 ? observations(one.frames) : undefined));
  t.same(clg.map((o) => [o.deviceId, o.metric, o.value, o.domain]), [['clg-1', 'co2', 900, 'buildings']]);
  await waitFor(() => roads.frames.some((f) => f.comment?.startsWith('heartbeat')), 5000, 'a heartbeat');

  // Disconnect, miss two readings, reconnect with the last id seen.
  const lastId = got[got.length - 1]!.id;
  roads.close();
  await send('rws-1', { surface_temperature: -3.1 });
  await send('clg-1', { co2: 950 });
  await send('rws-1', { surface_temperature: -3.3 });
  await waitFor(() => observations(one.frames).length >= 2);
  // Wait until the missed readings are committed before resuming.
  await waitFor(async () => {
    const r = await tp.get<{ items: Array<{ value: number }> }>('/api/v1/devices/rws-1/latest');
    return r.body.items.some((o) => o.value === -3.3);
  });
  const resumed = await openSse(`${base}?domain=roads&metric=surface_temperature`, { 'last-event-id': lastId });
  const missed = await waitFor(() => (observations(resumed.frames).length >= 2 ? observations(resumed.frames) : undefined));
  t.same(missed.map((o) => o.value), [-3.1, -3.3], 'exactly the missed readings, in order');
  // Ids are `<commit seq>:<index in the commit>`, the same on every process.
  const seq = (id: string) => id.split(':').map(Number) as [number, number];
  const after = (a: string, b: string) => seq(a)[0] > seq(b)[0] || (seq(a)[0] === seq(b)[0] && seq(a)[1] > seq(b)[1]);
  t.ok(missed.every((o) => after(o.id, lastId)), 'ids increase');
  await send('rws-1', { surface_temperature: -3.5 });
  await waitFor(() => observations(resumed.frames).length >= 3);
  t.same(observations(resumed.frames).map((o) => o.value), [-3.1, -3.3, -3.5], 'then live, without duplicates');
  resumed.close();
  one.close();
});

t.test('an id the server cannot replay gets a reset event', async (t) => {
  const c = await openSse(`${tp.platform.httpUrl}/api/v1/stream`, { 'last-event-id': 'oldboot-42' });
  const reset = await waitFor(() => c.frames.find((f) => f.event === 'reset'));
  t.match(JSON.parse(reset.data!), { reason: 'history_unavailable' });
  c.close();
});
