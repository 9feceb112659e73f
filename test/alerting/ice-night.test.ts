/**
 * An ice night through the real pipeline (MQTT -> ingest -> PostgreSQL -> engine) with the
 * shipped default rule pack: the surface cools on a wet road, the pre-alert comes first, then
 * the ice alarm; salting lowers the freezing point and the road warms, and it all resolves.
 * Alert events reach the MQTT topic and the SSE stream.
 */
import t from 'tap';
import { alertsOf, startScenario } from '../helpers/alerting.ts';
import { authHeaders } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const MIN = 60_000;
const T0 = Math.floor((Date.now() - 10 * 3_600_000) / MIN) * MIN;
const DEV = 'rws-ice-1';

const sc = await startScenario({
  rules: 'default',
  clockStart: T0,
  devices: [{ id: DEV, kind: 'road-weather-station', domain: 'roads', road: { route: 'RD910', pr: 42 }, periodSeconds: 360 }],
});
t.teardown(() => sc.stop());

// A VMS or SCADA listening to the documented topic.
const listener = await sc.tp.publisher();
const mqttMessages: Array<{ type: string; alert: { ruleId: string; state: string } }> = [];
listener.on('message', (_topic, payload) => mqttMessages.push(JSON.parse(payload.toString())));
await listener.subscribeAsync(`${sc.tp.prefix}vigie/alerts/+/${DEV}`, { qos: 1 });

// The live stream, over real HTTP.
const sse: string[] = [];
const abort = new AbortController();
const res = await fetch(`${sc.tp.platform.httpUrl}/api/v1/alerts/stream`, { signal: abort.signal, headers: authHeaders() });
t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
const reading = (async () => {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) sse.push(decoder.decode(chunk));
  } catch {
    // aborted at teardown
  }
})();
t.teardown(async () => {
  abort.abort();
  await reading;
});

t.test('pre-alert, then alarm, then resolution after salting and warming', async (t) => {
  // 0..300 min: surface falls 1 °C/h from 4 °C on a wet road (NTCIP state 5), no freezing point reported.
  for (let m = 0; m <= 300; m += 6) {
    await sc.send(DEV, T0 + m * MIN, { surface_temperature: Math.round((4 - m / 60) * 10) / 10, surface_state: 5, air_temperature: 1.5 });
  }
  // 306 min: the gritter passed: chemically wet, freezing point -6 °C; then the road warms.
  for (let m = 306; m <= 420; m += 6) {
    await sc.send(DEV, T0 + m * MIN, { surface_temperature: Math.round((-1 + (m - 306) / 40) * 10) / 10, surface_state: 6, freezing_point: -6, air_temperature: 3 });
  }

  const pre = await alertsOf(sc.tp, `device=${DEV}&rule=ice-prealert`);
  const ice = await alertsOf(sc.tp, `device=${DEV}&rule=ice-alarm`);
  t.equal(pre.length, 1, 'one pre-alert');
  t.equal(ice.length, 1, 'one ice alarm: repeated triggers update it');
  const p = pre[0]!;
  const a = ice[0]!;
  t.equal(p.state, 'resolved');
  t.equal(a.state, 'resolved');
  t.equal(a.severity, 'critical');
  // 2 °C (fp + 2) is reached at 120 min; the trend is known from 30 min of data.
  t.equal(p.firedAt, new Date(T0 + 120 * MIN).toISOString(), 'pre-alert when the surface is within 2 °C and falling');
  t.equal(a.firedAt, new Date(T0 + 240 * MIN).toISOString(), 'alarm when the surface reaches 0 °C on a wet road');
  t.ok(Date.parse(a.firedAt!) - Date.parse(p.firedAt!) >= 60 * MIN, 'at least an hour of lead time for pre-treatment');
  t.equal(p.resolvedAt, a.firedAt, 'the pre-alert gives way to the alarm');
  t.equal(a.resolvedAt, new Date(T0 + 306 * MIN).toISOString(), 'salting lowers the freezing point: the alarm clears');

  const detail = await sc.tp.get<{ timeline: Array<{ type: string; time: string }>; deliveries: Array<{ target: string; status: string; event: string }> }>(`/api/v1/alerts/${a.id}`);
  t.same(detail.body.timeline.map((e) => e.type), ['firing', 'resolved']);
  t.ok(detail.body.deliveries.some((d) => d.target === 'log' && d.event === 'firing' && d.status === 'delivered'));
  t.ok(detail.body.deliveries.some((d) => d.target.startsWith('mqtt:vigie/alerts/ice-alarm/') && d.event === 'resolved'));

  const frost = await alertsOf(sc.tp, `device=${DEV}&rule=frost`);
  t.equal(frost.length, 0, 'no dew point reported: frost stays unknown, never guessed');

  const mqttIce = await waitFor(() => {
    const m = mqttMessages.filter((x) => x.alert.ruleId === 'ice-alarm');
    return m.length >= 2 ? m : undefined;
  });
  t.same(mqttIce.map((m) => m.type), ['alert.firing', 'alert.resolved'], 'alarm events published for field equipment');
  const stream = await waitFor(() => {
    const text = sse.join('');
    return text.includes('event: resolved') && text.includes('"ruleId":"ice-alarm"') ? text : undefined;
  });
  t.match(stream, /event: pending|event: firing/);
  t.match(stream, /event: firing\ndata: \{"type":"firing","alert":\{[^\n]*"ruleId":"ice-prealert"/);
});

t.test('the API filters alerts by state, severity, domain and time', async (t) => {
  t.equal((await alertsOf(sc.tp, `device=${DEV}&severity=critical`)).length, 1);
  t.equal((await alertsOf(sc.tp, `device=${DEV}&state=firing`)).length, 0);
  t.equal((await alertsOf(sc.tp, `device=${DEV}&domain=buildings`)).length, 0);
  t.equal((await alertsOf(sc.tp, `device=${DEV}&to=${new Date(T0 + 60 * MIN).toISOString()}`)).length, 0, 'nothing had started in the first hour');
  t.equal((await alertsOf(sc.tp, `device=${DEV}&from=${new Date(T0 + 250 * MIN).toISOString()}&to=${new Date(T0 + 260 * MIN).toISOString()}`)).length, 1, 'the alarm was active then');
  const bad = await sc.tp.get<{ code: string }>(`/api/v1/alerts?state=bogus`);
  t.equal(bad.status, 400);
  t.equal(bad.body.code, 'VIGIE_ERR_VALIDATION');
});
