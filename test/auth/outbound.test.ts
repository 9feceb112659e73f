/**
 * Notifications stay where they are allowed: webhooks only to VIGIE_ALERT_WEBHOOK_ALLOW
 * (loopback, private and link-local addresses refused unless listed, by address after name
 * resolution), MQTT notifications only inside the alert namespace and off ingest topics. Rule
 * API writes are refused up front; rule files (no API check) are refused at delivery, before
 * any connection or publication.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import t from 'tap';
import { stringify } from 'yaml';
import { isSpecialAddress, mqttTopicProblem, OutboundPolicy } from '../../services/alerting/notify/outbound.ts';
import { DEFAULT_ROUTES } from '../../ingest/default-routes.ts';
import { startTestPlatform, TEST_MQTT_URL } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const hits: string[] = [];
let connections = 0;
const server = http.createServer((req, res) => {
  hits.push(req.url!);
  req.resume();
  req.on('end', () => res.end('ok'));
});
server.on('connection', () => connections++);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
t.teardown(() => server.close());

t.test('address classes: loopback, private, link-local, shared, unique-local are special', async (t) => {
  for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1']) {
    t.ok(isSpecialAddress(a), a);
  }
  for (const a of ['8.8.8.8', '193.51.24.1', '2a01:e0a::1']) t.notOk(isSpecialAddress(a), a);
});

t.test('the allow-list: prefixes by string, addresses after resolution', async (t) => {
  const none = new OutboundPolicy([]);
  t.match(await none.check(`http://127.0.0.1:${port}/x`), { ok: false, reason: /not in VIGIE_ALERT_WEBHOOK_ALLOW/ });
  const pub = new OutboundPolicy(['https://hooks.example.org']);
  t.match(await pub.check('https://hooks.example.org.evil.net/x'), { ok: false }, 'a longer host does not match');
  t.match(await pub.check('https://hooks.example.org@evil.net/x'), { ok: false }, 'userinfo trick');
  t.match(await pub.check('ftp://hooks.example.org/x'), { ok: false });
  // A listed host name that resolves to loopback is still refused: the address decides.
  const named = new OutboundPolicy([`http://localhost:${port}/`]);
  t.match(await named.check(`http://localhost:${port}/hook`), { ok: false, reason: /loopback, private or link-local/ });
  const withRange = new OutboundPolicy([`http://localhost:${port}/`, '127.0.0.0/8', '::1/128']);
  t.same(await withRange.check(`http://localhost:${port}/hook`), { ok: true }, 'unless its range is listed');
  const literal = new OutboundPolicy([`http://127.0.0.1:${port}/ok/`]);
  t.same(await literal.check(`http://127.0.0.1:${port}/ok/a`), { ok: true }, 'an IP literal entry names its address');
  t.match(await literal.check(`http://127.0.0.1:${port + 1}/ok/a`), { ok: false }, 'another port is another prefix');
  t.match(await literal.check('http://169.254.169.254/latest/meta-data/'), { ok: false });
  t.same(new OutboundPolicy(['not a url', 'gopher://x/']).invalid.length, 2);
});

t.test('MQTT notification topics: inside the alert namespace, never an ingest topic', async (t) => {
  t.equal(mqttTopicProblem('vigie/alerts/panneaux/rd910', 'vigie/alerts', DEFAULT_ROUTES), null);
  t.match(mqttTopicProblem('vigie/rws-1/telemetry', 'vigie/alerts', DEFAULT_ROUTES), /stay under vigie\/alerts\//);
  t.match(mqttTopicProblem('vigie/alerts/telemetry', 'vigie/alerts', DEFAULT_ROUTES), /read by the ingest/);
  t.match(mqttTopicProblem('vigie/alerts//x', 'vigie/alerts', DEFAULT_ROUTES), /empty topic level/);
});

t.test('on a platform: refused at the API, refused at delivery, nothing sent', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-outbound-'));
  mkdirSync(path.join(dir, 'rules'));
  // A rule file bypasses the API's checks: the dispatcher must refuse by itself.
  writeFileSync(
    path.join(dir, 'rules', 'r.yaml'),
    stringify({
      rules: [
        {
          id: 'probe',
          name: 'probe',
          severity: 'warning',
          condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1000 },
          notify: [
            { type: 'webhook', url: `http://127.0.0.1:${port}/scan` },
            { type: 'webhook', url: `http://localhost:${port}/allowed/named` },
            { type: 'webhook', url: `http://127.0.0.1:${port}/allowed/hook` },
            { type: 'mqtt', topic: 'vigie/clg-ghost/telemetry' },
            { type: 'mqtt', topic: 'vigie/alerts/panneaux/clg' },
          ],
        },
      ],
    }),
  );
  const tp = await startTestPlatform({ env: { VIGIE_RULES_DIR: path.join(dir, 'rules'), VIGIE_ALERT_WEBHOOK_ALLOW: `http://127.0.0.1:${port}/allowed/`, VIGIE_ALERT_WEBHOOK_RETRIES: '0' } });
  t.teardown(async () => {
    await tp.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = (payload: object) => tp.platform.app.inject({ method: 'POST', url: '/api/v1/rules', payload });
  const base = { name: 'x', severity: 'info', condition: { type: 'threshold', metric: 'co2', op: 'above', value: 5000 } };
  for (const [id, notify] of [
    ['w1', [{ type: 'webhook', url: `http://127.0.0.1:${port}/scan` }]],
    ['w2', [{ type: 'webhook', url: 'http://127.0.0.1:5432/' }]],
    ['w3', [{ type: 'webhook', url: `http://localhost:${port}/allowed/x` }]],
    ['w4', [{ type: 'webhook', url: 'http://169.254.169.254/latest/meta-data/' }]],
    ['m1', [{ type: 'mqtt', topic: 'vigie/rws-1/telemetry' }]],
    ['m2', [{ type: 'mqtt', topic: 'vigie/alerts/telemetry' }]],
  ] as const) {
    const res = await api({ ...base, id, notify });
    t.equal(res.statusCode, 400, `${id} refused`);
    t.equal(res.json().code, 'VIGIE_ERR_TARGET_NOT_ALLOWED');
  }
  const esc = await api({ ...base, id: 'e1', severity: 'critical', escalate: { after: '10m', notify: [{ type: 'webhook', url: `http://127.0.0.1:${port}/scan` }] } });
  t.equal(esc.statusCode, 400, 'escalation targets too');
  t.equal((await api({ ...base, id: 'ok1', notify: [{ type: 'webhook', url: `http://127.0.0.1:${port}/allowed/hook` }, { type: 'mqtt', topic: 'vigie/alerts/panneaux/rd910' }] })).statusCode, 201);

  const watcher = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `watch-${Date.now()}` });
  const seen: string[] = [];
  watcher.on('message', (topic) => seen.push(topic));
  await watcher.subscribeAsync(`${tp.prefix}vigie/#`);
  t.teardown(() => watcher.endAsync());

  const pub = await tp.publisher();
  await pub.publishAsync(`${tp.prefix}vigie/clg-1/telemetry`, JSON.stringify({ ts: new Date().toISOString(), metrics: { co2: 1400 } }), { qos: 1 });
  const deliveries = await waitFor(
    async () => {
      const { rows } = await tp.platform.pool.query(`select target, status, error from alert_deliveries order by id`);
      return rows.length >= 5 ? rows : undefined;
    },
    20_000,
    'five delivery records',
  );
  const by = (target: string) => deliveries.find((d) => d.target === target);
  t.match(by(`webhook:http://127.0.0.1:${port}/scan`), { status: 'failed', error: /refused by VIGIE_ALERT_WEBHOOK_ALLOW/ });
  t.match(by(`webhook:http://localhost:${port}/allowed/named`), { status: 'failed', error: /refused by VIGIE_ALERT_WEBHOOK_ALLOW/ });
  t.match(by(`webhook:http://127.0.0.1:${port}/allowed/hook`), { status: 'delivered' });
  t.match(by('mqtt:vigie/clg-ghost/telemetry'), { status: 'failed', error: /refused: MQTT notification topics stay under vigie\/alerts\// });
  t.match(by('mqtt:vigie/alerts/panneaux/clg'), { status: 'delivered' });
  t.same(hits, ['/allowed/hook'], 'the refused webhooks never reached the server');
  t.equal(connections, 1, 'one connection: the allowed delivery');
  await waitFor(() => seen.includes(`${tp.prefix}vigie/alerts/panneaux/clg`), 5000, 'the allowed MQTT notification');
  t.notOk(seen.includes(`${tp.prefix}vigie/clg-ghost/telemetry`), 'nothing published on the telemetry topic');
  t.equal((await tp.platform.pool.query(`select 1 from devices where id = 'clg-ghost'`)).rowCount, 0, 'nothing re-ingested');
});
