/**
 * Notifications through the real pipeline to a real local HTTP receiver: signed webhook
 * deliveries, retry after a failure, delivery status on the alert, escalation of an
 * unacknowledged critical alert, silences that record without notifying, and a failing or
 * hanging target that blocks neither evaluation nor the other targets.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { verify } from '../../services/alerting/notify/signature.ts';
import { alertsOf, startScenario } from '../helpers/alerting.ts';
import { waitFor } from '../helpers/wait.ts';

const MIN = 60_000;
const T0 = Math.floor((Date.now() - 3 * 3_600_000) / MIN) * MIN;
const SECRET = 'test-secret-for-hmac';

interface Received {
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}
const received: Received[] = [];
let failNext = 1;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/hang') return; // never answers: the sender's timeout must fire
    received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
    if (failNext > 0) {
      failNext--;
      res.writeHead(500).end('busy');
      return;
    }
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
t.teardown(() => new Promise<void>((r) => server.close(() => r())));
server.unref();

const sc = await startScenario({
  clockStart: T0,
  env: { VIGIE_ALERT_WEBHOOK_ALLOW: `${base}/,http://127.0.0.1:9/`, VIGIE_ALERT_WEBHOOK_SECRET: SECRET, VIGIE_ALERT_WEBHOOK_BACKOFF_MS: '20', VIGIE_ALERT_WEBHOOK_RETRIES: '3', VIGIE_ALERT_WEBHOOK_TIMEOUT_MS: '300' },
  rules: [
    {
      id: 'boiler-fault',
      name: 'Boiler fault',
      severity: 'critical',
      scope: { kinds: ['boiler'] },
      condition: { type: 'threshold', metric: 'fault', op: 'in', values: [1] },
      notify: [{ type: 'webhook', url: `${base}/hooks/ops` }, { type: 'log' }],
      escalate: { after: '30m', notify: [{ type: 'webhook', url: `${base}/hooks/astreinte` }] },
    },
    {
      id: 'co2-act',
      name: 'CO2 act now',
      severity: 'warning',
      scope: { domain: 'buildings', kinds: ['building-sensor'] },
      condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1500, clear: 1300 },
      notify: [{ type: 'webhook', url: 'http://127.0.0.1:9/refused' }, { type: 'webhook', url: `${base}/hang` }, { type: 'webhook', url: `${base}/hooks/co2` }],
    },
  ],
  devices: [
    { id: 'boiler-a', kind: 'boiler', domain: 'buildings', building: { building: 'clg-a' }, periodSeconds: 300 },
    { id: 'boiler-b', kind: 'boiler', domain: 'buildings', building: { building: 'clg-b' }, periodSeconds: 300 },
    { id: 'boiler-c', kind: 'boiler', domain: 'buildings', building: { building: 'clg-c' }, periodSeconds: 300 },
    { id: 'room-a', kind: 'building-sensor', domain: 'buildings', building: { building: 'clg-a' }, periodSeconds: 300 },
  ],
});
t.teardown(() => sc.stop());

interface Delivery {
  event: string;
  target: string;
  attempt: number;
  status: string;
  httpStatus: number | null;
  error: string | null;
}
const detail = async (id: string) => (await sc.tp.get<{ timeline: Array<{ type: string }>; deliveries: Delivery[] }>(`/api/v1/alerts/${id}`)).body;

t.test('signed webhook delivery, retried after a failure, status recorded on the alert', async (t) => {
  await sc.send('boiler-a', T0, { fault: 1, supply_temperature: 20 });
  const hits = await waitFor(() => {
    const h = received.filter((r) => r.path === '/hooks/ops');
    return h.length >= 2 ? h : undefined;
  });
  t.equal(hits.length, 2, 'one failure (500), one retry that succeeded');
  for (const h of hits) {
    t.equal(h.headers['content-type'], 'application/json');
    t.ok(verify(SECRET, h.body, h.headers['x-vigie-signature'] as string), 'X-Vigie-Signature is the HMAC-SHA256 of the body');
    t.notOk(verify('another-secret', h.body, h.headers['x-vigie-signature'] as string));
  }
  t.equal(hits[0]!.body, hits[1]!.body, 'a retry sends the same body (same id: receivers can deduplicate)');
  const payload = JSON.parse(hits[1]!.body);
  t.equal(payload.type, 'alert.firing');
  t.equal(payload.alert.ruleId, 'boiler-fault');
  t.equal(payload.alert.deviceId, 'boiler-a');
  t.equal(payload.alert.state, 'firing');
  t.equal(payload.alert.summary, 'Boiler fault: boiler-a (fault = 1)', 'the summary shows the values the rule read');
  t.equal(hits[1]!.headers['x-vigie-event'], 'alert.firing');
  const [alert] = await alertsOf(sc.tp, 'device=boiler-a');
  const d = await waitFor(async () => {
    const x = await detail(alert!.id);
    return x.deliveries.filter((y) => y.target.startsWith('webhook:')).length >= 2 ? x : undefined;
  });
  const web = d.deliveries.filter((y) => y.target === `webhook:${base}/hooks/ops`);
  t.same(
    web.map((w) => [w.attempt, w.status, w.httpStatus]),
    [
      [1, 'failed', 500],
      [2, 'delivered', 204],
    ],
  );
  t.ok(d.deliveries.some((y) => y.target === 'log' && y.status === 'delivered'));
});

t.test('an unacknowledged critical alert escalates once; an acknowledged one does not', async (t) => {
  await sc.send('boiler-c', T0 + 2 * MIN, { fault: 1 });
  const [c] = await alertsOf(sc.tp, 'device=boiler-c&state=firing');
  const ack = await sc.tp.platform.app.inject({ method: 'POST', url: `/api/v1/alerts/${c!.id}/ack`, payload: { user: 'chauffagiste', comment: 'on y va' } });
  t.equal(ack.statusCode, 200);
  await sc.tick(T0 + 20 * MIN);
  t.equal(received.filter((r) => r.path === '/hooks/astreinte').length, 0, 'not before 30 min');
  await sc.tick(T0 + 31 * MIN);
  const esc = await waitFor(() => {
    const h = received.filter((r) => r.path === '/hooks/astreinte');
    return h.length >= 1 ? h : undefined;
  });
  t.equal(esc.length, 1);
  t.equal(JSON.parse(esc[0]!.body).type, 'alert.escalated');
  t.equal(JSON.parse(esc[0]!.body).alert.deviceId, 'boiler-a', 'only the unacknowledged alert');
  await sc.tick(T0 + 45 * MIN);
  t.equal(received.filter((r) => r.path === '/hooks/astreinte').length, 1, 'escalates once');
  const [a] = await alertsOf(sc.tp, 'device=boiler-a');
  t.ok(a!.escalatedAt);
  t.same((await detail(a!.id)).timeline.map((e) => e.type), ['firing', 'escalated']);
});

t.test('a silence records the alert but notifies nobody', async (t) => {
  const created = await sc.tp.platform.app.inject({
    method: 'POST',
    url: '/api/v1/silences',
    payload: { scope: { buildings: ['clg-b'] }, startsAt: new Date(T0).toISOString(), endsAt: new Date(T0 + 4 * 3_600_000).toISOString(), reason: 'vacances scolaires', createdBy: 'gestionnaire' },
  });
  t.equal(created.statusCode, 201);
  const before = received.length;
  await sc.send('boiler-b', T0 + 50 * MIN, { fault: 1 });
  const [b] = await alertsOf(sc.tp, 'device=boiler-b');
  t.equal(b!.state, 'firing', 'recorded');
  t.equal(b!.silenced, true);
  await sc.send('boiler-b', T0 + 55 * MIN, { fault: 0 });
  const d = await detail(b!.id);
  t.same(d.timeline.map((e) => e.type), ['firing', 'silenced', 'resolved']);
  t.same(d.deliveries, [], 'no delivery attempted');
  // A notified alert after it proves the receiver was listening all along.
  await sc.send('boiler-c', T0 + 56 * MIN, { fault: 0 });
  await waitFor(() => received.length > before);
  t.notOk(received.slice(before).some((r) => JSON.parse(r.body).alert.deviceId === 'boiler-b'));
  const list = await sc.tp.get<{ items: Array<{ id: string; reason: string }> }>(`/api/v1/silences?activeAt=${new Date(T0 + 60 * MIN).toISOString()}`);
  t.equal(list.body.items.length, 1);
  const del = await sc.tp.platform.app.inject({ method: 'DELETE', url: `/api/v1/silences/${list.body.items[0]!.id}` });
  t.equal(del.statusCode, 204);
  t.equal((await sc.tp.get<{ items: unknown[] }>('/api/v1/silences')).body.items.length, 0);
  t.equal((await sc.tp.get<{ items: unknown[] }>('/api/v1/silences?includeDeleted=true')).body.items.length, 1, 'the record is kept');
  const bad = await sc.tp.platform.app.inject({ method: 'POST', url: '/api/v1/silences', payload: { scope: {}, startsAt: new Date(T0).toISOString(), endsAt: new Date(T0 - 1).toISOString(), reason: 'x', createdBy: 'y' } });
  t.equal(bad.statusCode, 400);
});

t.test('a refused and a hanging target block neither the other target nor evaluation', async (t) => {
  failNext = 0;
  await sc.send('room-a', T0 + 60 * MIN, { co2: 1700 });
  // Evaluation moves on while the hanging target waits for its timeout.
  await sc.send('room-a', T0 + 65 * MIN, { co2: 1200 });
  const co2 = await waitFor(() => {
    const h = received.filter((r) => r.path === '/hooks/co2');
    return h.length >= 2 ? h : undefined;
  });
  t.same(co2.map((h) => JSON.parse(h.body).type), ['alert.firing', 'alert.resolved']);
  const [a] = await alertsOf(sc.tp, 'device=room-a');
  const d = await waitFor(async () => {
    const x = await detail(a!.id);
    // 4 attempts each (1 + 3 retries) for the refused and the hanging target, per event.
    return x.deliveries.filter((y) => y.target.endsWith('/hang')).length >= 8 && x.deliveries.filter((y) => y.target.endsWith('/refused')).length >= 8 ? x : undefined;
  }, 20_000);
  t.ok(d.deliveries.filter((y) => y.target.endsWith('/hang')).every((y) => y.status === 'failed' && /timeout/.test(y.error ?? '')));
  t.ok(d.deliveries.filter((y) => y.target.endsWith('/refused')).every((y) => y.status === 'failed' && y.httpStatus === null));
});
