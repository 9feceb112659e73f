/**
 * Rules through the API (file rules read-only, API rules created, replaced, deleted, each
 * showing its source), and backtests over stored history: by API for a saved rule and for a
 * rule body not saved yet, and by the `vigie backtest` CLI.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { alertsOf, startScenario } from '../helpers/alerting.ts';
import { waitFor } from '../helpers/wait.ts';

const MIN = 60_000;
const NOW = Math.floor(Date.now() / MIN) * MIN;
// History two days back: stored, but far older than VIGIE_ALERT_MAX_LAG_SECONDS.
const H0 = NOW - 2 * 86_400_000;

const sc = await startScenario({
  clockStart: NOW,
  rules: [{ id: 'file-gust', name: 'Gust', severity: 'warning', condition: { type: 'threshold', metric: 'wind_gust', op: 'above', value: 17.8, clear: 15 } }],
  devices: [
    { id: 'rws-h', kind: 'road-weather-station', domain: 'roads', road: { route: 'RD951', pr: 3 }, periodSeconds: 360 },
    { id: 'room-h', kind: 'building-sensor', domain: 'buildings', building: { building: 'clg-h' }, periodSeconds: 300 },
  ],
});
t.teardown(() => sc.stop());
const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => sc.tp.platform.app.inject({ method, url, ...(payload ? { payload: payload as object } : {}) });

const co2Rule = { id: 'api-co2', name: 'CO2 (API)', severity: 'warning', scope: { domain: 'buildings' }, condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1500, clear: 1300 } };

t.test('rules show their source; file rules are read-only; API rules are managed', async (t) => {
  const list = await api('GET', '/api/v1/rules');
  t.equal(list.statusCode, 200);
  t.same(list.json().items.map((r: { rule: { id: string }; source: string; origin: string | null }) => [r.rule.id, r.source, r.origin]), [['file-gust', 'file', 'test.yaml']]);

  const created = await api('POST', '/api/v1/rules', co2Rule);
  t.equal(created.statusCode, 201);
  t.equal(created.json().source, 'api');
  t.equal(created.json().rule.notify[0].type, 'log', 'defaults applied');
  t.equal((await api('POST', '/api/v1/rules', co2Rule)).json().code, 'VIGIE_ERR_RULE_EXISTS');

  const invalid = await api('POST', '/api/v1/rules', { ...co2Rule, id: 'bad', condition: { type: 'threshold', metric: 'co2', op: 'above' } });
  t.equal(invalid.statusCode, 400);
  t.equal(invalid.json().code, 'VIGIE_ERR_VALIDATION');
  const unknownMetric = await api('POST', '/api/v1/rules', { ...co2Rule, id: 'bad2', condition: { type: 'threshold', metric: 'co3', op: 'above', value: 1 } });
  t.equal(unknownMetric.statusCode, 400);
  t.equal(unknownMetric.json().field, 'condition.metric', 'the error names the field');
  const nested = await api('POST', '/api/v1/rules', { ...co2Rule, id: 'bad3', condition: { type: 'all', conditions: [{ type: 'threshold', metric: 'co2', op: 'above', value: 1 }, { type: 'rate', metric: 'co2', window: 'soon', below: 1 }] } });
  t.equal(nested.json().field, 'condition.conditions.1.window');

  const ro = await api('PUT', '/api/v1/rules/file-gust', { id: 'file-gust', name: 'x', severity: 'info', condition: { type: 'threshold', metric: 'wind_gust', op: 'above', value: 1 } });
  t.equal(ro.statusCode, 409);
  t.equal(ro.json().code, 'VIGIE_ERR_RULE_READONLY');
  t.equal((await api('DELETE', '/api/v1/rules/file-gust')).json().code, 'VIGIE_ERR_RULE_READONLY');

  // The new rule is live at once.
  await sc.send('room-h', NOW - 5 * MIN, { co2: 1600 });
  const [open] = await alertsOf(sc.tp, 'rule=api-co2');
  t.equal(open?.state, 'firing');

  const put = await api('PUT', '/api/v1/rules/api-co2', { ...co2Rule, name: 'CO2 renamed', condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1700, clear: 1650 } });
  t.equal(put.statusCode, 200);
  t.equal(put.json().rule.name, 'CO2 renamed');
  await sc.send('room-h', NOW - 4 * MIN, { co2: 1600 });
  t.equal((await alertsOf(sc.tp, 'rule=api-co2'))[0]?.state, 'resolved', 'the replaced rule (clear 1650) applies to the open alert');

  await sc.send('room-h', NOW - 3 * MIN, { co2: 1800 });
  t.equal((await alertsOf(sc.tp, 'rule=api-co2&state=firing')).length, 1);
  t.equal((await api('DELETE', '/api/v1/rules/api-co2')).statusCode, 204);
  t.equal((await alertsOf(sc.tp, 'rule=api-co2&state=firing')).length, 0, 'deleting a rule closes its open alerts');
  t.equal((await api('GET', '/api/v1/rules/api-co2')).statusCode, 404);
});

t.test('backtest over stored history, by API and by CLI', async (t) => {
  const gusts = [5, 12, 19, 22, 16, 14, 8, 18.5, 9];
  for (let i = 0; i < gusts.length; i++) await sc.send('rws-h', H0 + i * 6 * MIN, { wind_gust: gusts[i]! });
  t.equal((await alertsOf(sc.tp, 'device=rws-h')).length, 0, 'old history raises no live alert');

  const range = { from: new Date(H0 - MIN).toISOString(), to: new Date(H0 + 60 * MIN).toISOString() };
  const saved = await api('POST', '/api/v1/rules/file-gust/backtest', range);
  t.equal(saved.statusCode, 200);
  const body = saved.json();
  t.equal(body.observations, gusts.length);
  t.same(
    body.transitions.map((x: { kind: string; time: string }) => [x.kind, (Date.parse(x.time) - H0) / MIN]),
    [
      ['firing', 12],
      ['resolved', 30],
      ['firing', 42],
      ['resolved', 48],
    ],
    'fires over 17.8 m/s, clears under 15 (16 keeps it open)',
  );
  t.equal(body.alerts.length, 2);

  const unsaved = await api('POST', '/api/v1/rules/backtest', {
    rule: { id: 'try-gust', name: 'Gust 20', severity: 'info', for: '6m', condition: { type: 'threshold', metric: 'wind_gust', op: 'above', value: 18 } },
    ...range,
  });
  t.equal(unsaved.statusCode, 200);
  t.same(
    unsaved.json().transitions.map((x: { kind: string; time: string }) => [x.kind, (Date.parse(x.time) - H0) / MIN]),
    [
      ['pending', 12],
      ['firing', 18],
      ['resolved', 24],
      ['pending', 42],
      ['cancelled', 48],
    ],
  );
  const offline = await api('POST', '/api/v1/rules/backtest', {
    rule: { id: 'try-offline', name: 'Offline', severity: 'info', scope: { devices: ['rws-h'] }, condition: { type: 'missing', after: '10m' } },
    ...range,
  });
  t.same(
    offline.json().transitions.map((x: { kind: string; time: string }) => [x.kind, (Date.parse(x.time) - H0) / MIN]),
    [['firing', 58]],
    'silent after the last reading at 48 min: offline at 58 min, found by the replayed timer',
  );
  const badRange = await api('POST', '/api/v1/rules/file-gust/backtest', { from: range.to, to: range.from });
  t.equal(badRange.statusCode, 400);
  t.equal((await api('POST', '/api/v1/rules/nope/backtest', range)).statusCode, 404);
  t.equal((await alertsOf(sc.tp, 'device=rws-h')).length, 0, 'a backtest writes no alert');

  const { stdout } = await promisify(execFile)(process.execPath, [path.resolve('bin/vigie.js'), 'backtest', '--rule', 'file-gust', '--from', range.from, '--to', range.to], {
    env: { ...process.env, DATABASE_URL: sc.tp.db!.url, VIGIE_REGISTRY: path.join(sc.dir, 'devices.yaml') },
  });
  const lines = stdout.trim().split('\n');
  t.match(lines[0], /^rule file-gust: .* 2 device\(s\), 9 observation\(s\)/);
  t.match(lines[1], new RegExp(`^${new Date(H0 + 12 * MIN).toISOString()}  firing +rws-h +19 `));
  t.equal(lines.filter((l) => / (firing|resolved) /.test(l)).length, 4);
  t.match(lines.at(-1), /^2 alert\(s\) would have fired; 0 still open at the end$/);

  // A rule not deployed yet, from a file, as JSON.
  const file = path.join(sc.dir, 'draft.yaml');
  writeFileSync(file, 'rules:\n  - { id: draft-gust, name: Draft, severity: info, condition: { type: threshold, metric: wind_gust, op: above, value: 21 } }\n');
  const draft = await promisify(execFile)(process.execPath, [path.resolve('bin/vigie.js'), 'backtest', '--file', file, '--from', range.from, '--to', range.to, '--json', '--device', 'rws-h'], {
    env: { ...process.env, DATABASE_URL: sc.tp.db!.url },
  });
  const json = JSON.parse(draft.stdout);
  t.equal(json.ruleId, 'draft-gust');
  t.same(json.alerts.map((a: { firedAt: string; resolvedAt: string }) => [(Date.parse(a.firedAt) - H0) / MIN, (Date.parse(a.resolvedAt) - H0) / MIN]), [[18, 24]]);
  const usage = await promisify(execFile)(process.execPath, [path.resolve('bin/vigie.js'), 'backtest', '--from', range.from], { env: { ...process.env, DATABASE_URL: sc.tp.db!.url } }).catch((e: { code: number; stderr: string }) => e);
  t.equal((usage as { code: number }).code, 2, 'usage error exit code');
  t.match((usage as { stderr: string }).stderr, /pass --rule <id> or --file <path>/);
});

t.test('OpenAPI documents the alerting routes', async (t) => {
  const doc = await waitFor(async () => (await sc.tp.get<{ paths: Record<string, unknown> }>('/docs/json')).body);
  for (const p of ['/api/v1/alerts', '/api/v1/alerts/{id}', '/api/v1/alerts/{id}/ack', '/api/v1/alerts/stream', '/api/v1/rules', '/api/v1/rules/{id}', '/api/v1/rules/{id}/backtest', '/api/v1/rules/backtest', '/api/v1/silences', '/api/v1/silences/{id}']) {
    t.ok(doc.paths[p], p);
  }
});
