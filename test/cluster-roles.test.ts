/**
 * Two in-process platforms on one database: the singleton roles are taken by one, rule changes
 * made through the other's API reach the evaluator without restart (NOTIFY), a changed rule
 * file is reloaded (folder watch), and a graceful stop hands the roles over at once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import type { RuleInput } from '../schemas/alerting.ts';
import { alertingFor } from '../services/alerting/runtime.ts';
import { startScenario } from './helpers/alerting.ts';
import { createTestDatabase } from './helpers/database.ts';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const db = await createTestDatabase('roles');
// Each process has its own copy of the deployment's rules folder, as on separate hosts.
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-roles-a-'));
const dirB = mkdtempSync(path.join(os.tmpdir(), 'vigie-roles-b-'));
const fileRule: RuleInput = { id: 'file-hot', name: 'Hot', severity: 'warning', scope: { kinds: ['building-sensor'] }, condition: { type: 'threshold', metric: 'air_temperature', op: 'above', value: 30 } };
const devices = [{ id: 'room-r', kind: 'building-sensor' as const, domain: 'buildings' as const, periodSeconds: 300 }];
const env = { VIGIE_LEASE_CHECK_MS: '200', VIGIE_RULES_WATCH_MS: '100' };
const a = await startScenario({ rules: [fileRule], devices, db, dir, clockStart: Date.now(), env });
const b = await startScenario({ rules: [fileRule], devices, db, dir: dirB, clockStart: Date.now(), env });
let aStopped = false;
let bStopped = false;
t.teardown(async () => {
  if (!aStopped) await a.stop({ keepDir: true });
  if (!bStopped) await b.stop({ keepDir: true });
  await db.drop();
});
const ra = alertingFor(a.tp.platform.pool);
const rb = alertingFor(b.tp.platform.pool);

t.test('one evaluator; an API rule change through the other process reaches it', async (t) => {
  t.equal(ra.evaluating, true, 'the first process evaluates');
  t.equal(rb.evaluating, false, 'the second one does not');
  t.ok(a.tp.platform.leases.holds('alerting') && !b.tp.platform.leases.holds('alerting'));
  const rule: RuleInput = { id: 'api-co2', name: 'CO2', severity: 'info', scope: { kinds: ['building-sensor'] }, condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1500 } };
  const res = await b.tp.platform.app.inject({ method: 'POST', url: '/api/v1/rules', payload: rule });
  t.equal(res.statusCode, 201);
  await waitFor(() => ra.engine.core.ruleById('api-co2') !== undefined, 5_000, 'the evaluator to load the API rule');
  t.pass('loaded by the evaluator without restart');
});

t.test('a changed rule file is reloaded', async (t) => {
  const rules = stringify({ rules: [fileRule, { ...fileRule, id: 'file-cold', name: 'Cold', condition: { type: 'threshold', metric: 'air_temperature', op: 'below', value: 5 } }] });
  writeFileSync(path.join(dirB, 'rules', 'test.yaml'), rules);
  writeFileSync(path.join(dir, 'rules', 'test.yaml'), rules);
  await waitFor(() => ra.engine.core.ruleById('file-cold') !== undefined, 5_000, 'the new file rule');
  t.pass('file-cold runs');
});

t.test('a graceful stop hands the roles over at once', async (t) => {
  const before = Date.now();
  await a.stop({ keepDir: true });
  aStopped = true;
  await waitFor(() => rb.evaluating, 5_000, 'the second process to take the evaluator');
  t.ok(Date.now() - before < 3_000, `taken over in ${Date.now() - before} ms`);
  t.ok(b.tp.platform.leases.holds('notify') && b.tp.platform.leases.holds('maintenance'));
  t.ok(rb.engine.core.ruleById('file-cold') && rb.engine.core.ruleById('api-co2'), 'with every rule');
});

t.test('--role api serves the API and holds no role; --role worker holds them and serves no API', async (t) => {
  const api = await startTestPlatform({ db, env: { VIGIE_ROLE: 'api', VIGIE_LEASE_CHECK_MS: '200', VIGIE_RULES_DIR: path.join(dirB, 'rules'), VIGIE_MQTT_CLIENT_ID: `api-${process.pid}` } });
  t.teardown(() => api.stop());
  t.equal((await api.get('/api/v1/alerts')).status, 200, 'the api process serves the alert API');
  const view = await api.get<{ role: string; singletons: Array<{ role: string; here: boolean }> }>('/api/v1/cluster');
  t.equal(view.body.role, 'api');
  t.notOk(view.body.singletons.some((s) => s.here), 'it holds no singleton');
  await b.stop({ keepDir: true });
  bStopped = true;
  await new Promise((r) => setTimeout(r, 600));
  t.notOk(api.platform.leases.holds('alerting'), 'not even when nobody else can');
  const worker = await startTestPlatform({ db, env: { VIGIE_ROLE: 'worker', VIGIE_LEASE_CHECK_MS: '200', VIGIE_RULES_DIR: path.join(dirB, 'rules'), VIGIE_MQTT_CLIENT_ID: `wrk-${process.pid}` } });
  t.teardown(() => worker.stop());
  t.ok(worker.platform.leases.holds('alerting') && worker.platform.leases.holds('notify'), 'the worker takes the evaluator and delivery');
  t.notOk(worker.platform.leases.holds('sparkplug'), 'but not the Sparkplug host, which needs the intake');
  t.equal((await worker.get('/api/v1/alerts')).status, 404, 'the worker serves no API routes');
  t.equal((await worker.get('/api/v1/cluster')).status, 200, 'but its cluster view');
});
