/**
 * Alert lifecycle through the real pipeline: hysteresis keeps a hovering CO2 reading from
 * flapping, a silent device raises the offline alert and recovers, acknowledgement by a
 * named user, and a backfill that must not raise stale alerts.
 */
import t from 'tap';
import { alertsOf, startScenario } from '../helpers/alerting.ts';
import { waitFor } from '../helpers/wait.ts';

const MIN = 60_000;
const T0 = Math.floor((Date.now() - 6 * 3_600_000) / MIN) * MIN;

const sc = await startScenario({
  clockStart: T0,
  rules: [
    { id: 'co2-high', name: 'CO2 high', severity: 'warning', scope: { domain: 'buildings' }, condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1500, clear: 1300 } },
    { id: 'offline', name: 'Offline', severity: 'warning', scope: { domain: 'buildings' }, condition: { type: 'missing', after: '10m', periods: 3 } },
    { id: 'gust', name: 'Gust', severity: 'critical', condition: { type: 'threshold', metric: 'wind_gust', op: 'above', value: 17.8, clear: 15 } },
  ],
  devices: [
    { id: 'room-a', kind: 'building-sensor', domain: 'buildings', building: { building: 'clg-a', zone: 's101' }, periodSeconds: 300 },
    { id: 'room-b', kind: 'building-sensor', domain: 'buildings', building: { building: 'clg-a', zone: 's102' }, periodSeconds: 300 },
    // Installed, registered, never reported.
    { id: 'room-never', kind: 'building-sensor', domain: 'buildings', building: { building: 'clg-a', zone: 's103' }, periodSeconds: 300 },
  ],
});
t.teardown(() => sc.stop());

t.test('values hovering at the threshold do not flap', async (t) => {
  const values = [1420, 1490, 1510, 1495, 1502, 1480, 1515, 1460, 1505, 1350, 1320, 1490, 1280, 1300, 1495];
  for (let i = 0; i < values.length; i++) await sc.send('room-a', T0 + i * 5 * MIN, { co2: values[i]! });
  const alerts = await alertsOf(sc.tp, 'device=room-a&rule=co2-high');
  t.equal(alerts.length, 1, 'one alert, not one per crossing');
  t.equal(alerts[0]!.firedAt, new Date(T0 + 10 * MIN).toISOString());
  t.equal(alerts[0]!.resolvedAt, new Date(T0 + 60 * MIN).toISOString(), 'resolves only under the clear threshold (1280 < 1300)');
  t.equal(alerts[0]!.lastValue, 1280);
});

t.test('a device going silent raises the offline alert on time and recovers', async (t) => {
  const last = T0 + 80 * MIN;
  await sc.send('room-b', last, { co2: 600 });
  // 3 periods of 5 min = 15 min (more than `after: 10m`).
  await sc.tick(last + 14 * MIN);
  t.equal((await alertsOf(sc.tp, 'device=room-b&rule=offline')).length, 0, 'not before 3 periods');
  await sc.tick(last + 16 * MIN);
  const [offline] = await alertsOf(sc.tp, 'device=room-b&rule=offline');
  t.equal(offline?.state, 'firing');
  t.equal(offline?.firedAt, new Date(last + 15 * MIN).toISOString(), 'fired at last seen + 3 periods, not at the tick');
  await sc.tick(last + 40 * MIN);
  t.equal((await alertsOf(sc.tp, 'device=room-b&rule=offline')).length, 1, 'still one alert');
  await sc.send('room-b', last + 45 * MIN, { co2: 610 });
  const [recovered] = await alertsOf(sc.tp, 'device=room-b&rule=offline');
  t.equal(recovered?.state, 'resolved');
  t.equal(recovered?.resolvedAt, new Date(last + 45 * MIN).toISOString());
});

t.test('acknowledgement by a named user, with the timeline', async (t) => {
  const at = T0 + 130 * MIN;
  await sc.send('room-a', at, { co2: 1800 });
  const [open] = await alertsOf(sc.tp, 'device=room-a&rule=co2-high&state=firing');
  t.ok(open);
  const ack = await sc.tp.platform.app.inject({ method: 'POST', url: `/api/v1/alerts/${open!.id}/ack`, payload: { user: 'm.dupont', comment: 'fenêtres ouvertes' } });
  t.equal(ack.statusCode, 200);
  t.same(ack.json().ack.by, 'm.dupont');
  const again = await sc.tp.platform.app.inject({ method: 'POST', url: `/api/v1/alerts/${open!.id}/ack`, payload: { user: 'x', comment: '' } });
  t.equal(again.statusCode, 409);
  t.equal(again.json().code, 'VIGIE_ERR_ALERT_ACKED');
  const noUser = await sc.tp.platform.app.inject({ method: 'POST', url: `/api/v1/alerts/${open!.id}/ack`, payload: { comment: 'who?' } });
  t.equal(noUser.statusCode, 400);
  const missing = await sc.tp.platform.app.inject({ method: 'POST', url: `/api/v1/alerts/999999/ack`, payload: { user: 'x' } });
  t.equal(missing.statusCode, 404);
  const detail = await sc.tp.get<{ timeline: Array<{ type: string; detail: Record<string, string> }> }>(`/api/v1/alerts/${open!.id}`);
  t.same(detail.body.timeline.map((e) => e.type), ['firing', 'acknowledged']);
  t.same(detail.body.timeline[1]!.detail, { user: 'm.dupont', comment: 'fenêtres ouvertes' });
  await sc.send('room-a', at + 5 * MIN, { co2: 900 });
  const resolvedAck = await sc.tp.platform.app.inject({ method: 'POST', url: `/api/v1/alerts/${open!.id}/ack`, payload: { user: 'x' } });
  t.equal(resolvedAck.json().code, 'VIGIE_ERR_ALERT_RESOLVED');
});

t.test('a backfill of old data is stored but raises no alert as if it were current', async (t) => {
  const now = T0 + 300 * MIN;
  sc.clock.set(now);
  // Two hours old (VIGIE_ALERT_MAX_LAG_SECONDS is 15 min): a gateway emptying its buffer.
  const old = now - 120 * MIN;
  const pub = await sc.tp.publisher();
  await pub.publishAsync(`${sc.tp.prefix}vigie/mast-1/telemetry`, JSON.stringify({ ts: old, metrics: { wind_gust: 30 } }), { qos: 1 });
  await waitFor(() => sc.rt.engine.core.memory.latestOf('mast-1', 'wind_gust', '')?.t === old);
  await sc.rt.engine.idle();
  const stored = await sc.tp.get<{ items: unknown[] }>('/api/v1/observations?device=mast-1');
  t.equal(stored.body.items.length, 1, 'the backfill is in history');
  t.equal((await alertsOf(sc.tp, 'device=mast-1')).length, 0, 'but no stale alert');
  const metrics = await sc.tp.platform.app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /vigie_alert_historical_observations_total [1-9]/, 'counted as history');
  t.match(metrics.body, /vigie_alert_transitions_total\{kind="firing"\} [1-9]/);
  // Current data from the same device still alerts.
  await sc.send('mast-1', now, { wind_gust: 25 });
  t.equal((await alertsOf(sc.tp, 'device=mast-1&state=firing')).length, 1);
});

t.test('a registered device that never reported is offline once the delay passed since it was registered', async (t) => {
  const { rows } = await sc.tp.platform.pool.query(`select since from alert_awaited_devices where device_id = 'room-never'`);
  const since = (rows[0]!.since as Date).getTime();
  await sc.tick(since + 14 * MIN);
  t.equal((await alertsOf(sc.tp, 'device=room-never')).length, 0);
  await sc.tick(since + 16 * MIN);
  const [never] = await alertsOf(sc.tp, 'device=room-never&rule=offline');
  t.equal(never?.firedAt, new Date(since + 15 * MIN).toISOString(), 'registered + 3 periods');
  // The hand clock ran ahead of the wall clock; come back to it to send a first report
  // (the ingest refuses observations from the future).
  const first = Date.now();
  sc.clock.set(first + 1000);
  await sc.send('room-never', first, { co2: 450 });
  const [recovered] = await alertsOf(sc.tp, 'device=room-never&rule=offline');
  t.equal(recovered?.state, 'resolved', 'the first report recovers it');
  t.equal(recovered?.resolvedAt, new Date(first).toISOString());
});
