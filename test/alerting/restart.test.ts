/**
 * A restart in the middle of a `for` window neither resets it nor fires twice: the state
 * (pending since, last values, open alerts) lives in PostgreSQL, and the memory of latest
 * values is rebuilt from the store, so offline detection survives a restart too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { RuleInput } from '../../schemas/alerting.ts';
import { alertsOf, startScenario, type AlertingScenario } from '../helpers/alerting.ts';
import { createTestDatabase } from '../helpers/database.ts';

const MIN = 60_000;
const T0 = Math.floor((Date.now() - 4 * 3_600_000) / MIN) * MIN;
const db = await createTestDatabase();
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-restart-'));
t.teardown(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

const rules: RuleInput[] = [
  { id: 'fog', name: 'Fog', severity: 'critical', for: '30m', condition: { type: 'threshold', metric: 'visibility', op: 'below', value: 400, clear: 500 }, notify: [{ type: 'log' }] },
  { id: 'offline', name: 'Offline', severity: 'warning', scope: { domain: 'roads' }, condition: { type: 'missing', after: '20m', periods: 3 } },
];
const devices = [
  { id: 'rws-fog', kind: 'road-weather-station' as const, domain: 'roads' as const, periodSeconds: 360 },
  { id: 'rws-quiet', kind: 'road-weather-station' as const, domain: 'roads' as const, periodSeconds: 360 },
];
const start = (clockStart: number) => startScenario({ rules, devices, db, dir, clockStart });

let sc: AlertingScenario = await start(T0);
t.teardown(() => sc.stop());

t.test('restart during `for`: fires once, on time', async (t) => {
  await sc.send('rws-fog', T0, { visibility: 300 });
  await sc.send('rws-fog', T0 + 6 * MIN, { visibility: 250 });
  await sc.send('rws-fog', T0 + 12 * MIN, { visibility: 320 });
  await sc.send('rws-quiet', T0 + 12 * MIN, { air_temperature: 1 });
  const [pending] = await alertsOf(sc.tp, 'rule=fog');
  t.equal(pending?.state, 'pending');

  await sc.stop();
  sc = await start(T0 + 15 * MIN);

  await sc.send('rws-fog', T0 + 18 * MIN, { visibility: 310 });
  await sc.send('rws-fog', T0 + 24 * MIN, { visibility: 300 });
  await sc.tick(T0 + 29 * MIN);
  t.equal((await alertsOf(sc.tp, 'rule=fog'))[0]?.state, 'pending', 'the window was not reset by the restart, nor cut short');
  t.equal((await alertsOf(sc.tp, 'device=rws-quiet&rule=offline')).length, 0, 'rws-quiet: silent 17 min, not offline yet');
  await sc.tick(T0 + 30 * MIN + 5_000);
  const fired = await alertsOf(sc.tp, 'rule=fog');
  t.equal(fired.length, 1);
  t.equal(fired[0]!.state, 'firing');
  t.equal(fired[0]!.startedAt, new Date(T0).toISOString(), 'pending since the first reading, before the restart');
  t.equal(fired[0]!.firedAt, new Date(T0 + 30 * MIN).toISOString(), 'fired when the 30 min elapsed');
  await sc.send('rws-fog', T0 + 30 * MIN, { visibility: 290 });

  // A second restart while firing: the same alert stays open, no second firing.
  await sc.stop();
  sc = await start(T0 + 33 * MIN);
  await sc.send('rws-fog', T0 + 36 * MIN, { visibility: 280 });
  await sc.tick(T0 + 37 * MIN);
  const still = await alertsOf(sc.tp, 'rule=fog');
  t.equal(still.length, 1, 'one open alert per rule, device and channel');
  t.equal(still[0]!.lastValue, 280, 'the open alert is updated');
  await sc.send('rws-fog', T0 + 42 * MIN, { visibility: 900 });
  const detail = await sc.tp.get<{ timeline: Array<{ type: string }> }>(`/api/v1/alerts/${still[0]!.id}`);
  t.same(detail.body.timeline.map((e) => e.type), ['pending', 'firing', 'resolved'], 'fired exactly once');
});

t.test('offline detection survives the restarts (last seen comes from the store)', async (t) => {
  // rws-quiet was last heard at T0+12 min, before both restarts (3 periods of 6 min = 18 min
  // < after: 20 min); the tick at T0+37 min after the second restart found it silent.
  await sc.tick(T0 + 45 * MIN);
  const offline = await alertsOf(sc.tp, 'device=rws-quiet&rule=offline');
  t.equal(offline.length, 1);
  t.equal(offline[0]?.state, 'firing');
  t.equal(offline[0]?.firedAt, new Date(T0 + 32 * MIN).toISOString(), 'last seen + 20 min');
});

t.test('a rule removed from the folder while Vigie was down has its open alerts closed at start', async (t) => {
  await sc.stop();
  sc = await startScenario({ rules: [rules[0]!], devices, db, dir, clockStart: T0 + 50 * MIN });
  const [offline] = await alertsOf(sc.tp, 'device=rws-quiet&rule=offline');
  t.equal(offline?.state, 'resolved');
  const detail = await sc.tp.get<{ timeline: Array<{ type: string; detail: { reason?: string } }> }>(`/api/v1/alerts/${offline!.id}`);
  t.same(detail.body.timeline.at(-1), { ...detail.body.timeline.at(-1), type: 'resolved', detail: { reason: 'rule removed or disabled' } });
  const rulesNow = await sc.tp.get<{ items: Array<{ rule: { id: string } }> }>('/api/v1/rules');
  t.same(rulesNow.body.items.map((r) => r.rule.id), ['fog']);
});
