/**
 * Hostile requests against a real platform (real PostgreSQL, Mosquitto, HTTP): no request
 * answers 500, none crashes the process, none holds the event loop, and a rule that would make
 * later starts fail is refused up front (a stored one is skipped at start, named in the log).
 */
import http from 'node:http';
import fc from 'fast-check';
import t from 'tap';
import { ruleSchema } from '../../schemas/alerting.ts';
import { authHeaders, startTestPlatform } from '../helpers/platform.ts';

const tp = await startTestPlatform({ env: { VIGIE_TIMESCALE: 'off', VIGIE_ALERTING: 'true', VIGIE_RULES_DIR: '/nonexistent' } });
t.teardown(() => tp.stop());
const app = tp.platform.app;

/** Every GET route with a concrete path, as the API lists them. */
const GETS = [
  '/api/v1/metrics', '/api/v1/series', '/api/v1/devices', '/api/v1/devices/d1', '/api/v1/devices/d1/latest', '/api/v1/dead-letters',
  '/api/v1/observations', '/api/v1/profiles', '/api/v1/traffic/stations', '/api/v1/traffic/tmja', '/api/v1/roads/conditions',
  '/api/v1/rules', '/api/v1/rules/r1', '/api/v1/buildings/consumption', '/api/v1/buildings/comfort', '/api/v1/export',
  '/api/v1/alerts', '/api/v1/alerts/1', '/api/v1/silences',
];
const PARAMS = ['device', 'metric', 'channel', 'from', 'to', 'order', 'limit', 'cursor', 'domain', 'kind', 'registered', 'topic', 'decoder', 'code', 'reason', 'status', 'bucket', 'agg', 'tz', 'station', 'building', 'zone', 'format', 'fill', 'state', 'severity', 'rule', 'year', 'source'];
const BASE = { device: 'd1', metric: 'air_temperature', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', bucket: '1h', year: '2026', building: 'b', station: 's' };
const HOSTILE = ['a\u0000b', 'x'.repeat(5000), '99999999999999999999999', '-1', '+275760-09-13T00:00:00Z', '-271821-04-20T00:00:00Z', '0000-01-01T00:00:00Z', '1', 'NaN', '%', '\ud800', 'eyJ4IjoxfQ', Buffer.from(JSON.stringify(['+275760-01-01T00:00:00Z', 'a', 'b', 'c'])).toString('base64url')];

/** A lone surrogate has no UTF-8 form: send the bytes a careless client would (CESU-8). */
const pathSegment = (v: string) => {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80';
  }
};

t.test('no hostile query parameter or path answers 500', async (t) => {
  const fiveHundreds: string[] = [];
  let requests = 0;
  for (const route of GETS) {
    for (const p of PARAMS) {
      for (const v of HOSTILE) {
        const res = await app.inject({ method: 'GET', url: `${route}?${new URLSearchParams({ ...BASE, [p]: v })}` });
        requests++;
        if (res.statusCode >= 500) fiveHundreds.push(`${route} ${p}=${JSON.stringify(v).slice(0, 40)}: ${res.statusCode}`);
      }
    }
    for (const v of HOSTILE) {
      const res = await app.inject({ method: 'GET', url: route.replace(/\/(d1|r1|1)(?=\/|$)/, `/${pathSegment(v)}`) });
      requests++;
      if (res.statusCode >= 500) fiveHundreds.push(`${route} path=${JSON.stringify(v).slice(0, 40)}: ${res.statusCode}`);
    }
  }
  t.same(fiveHundreds, [], `${requests} requests, none answered 5xx`);
});

t.test('NUL bytes are a 400 naming the field, on filters and bodies', async (t) => {
  const q = await app.inject({ method: 'GET', url: '/api/v1/observations?device=a%00b' });
  t.equal(q.statusCode, 400);
  t.equal(q.json().code, 'VIGIE_ERR_VALIDATION');
  t.equal(q.json().field, 'device');
  const body = await app.inject({ method: 'POST', url: '/api/v1/silences', payload: { scope: {}, startsAt: '2030-01-01T00:00:00Z', endsAt: '2030-01-02T00:00:00Z', reason: 'r\u0000', createdBy: 'me' } });
  t.equal(body.statusCode, 400);
  t.match(body.json().message, /NUL/);
});

t.test('from after to is refused the same way on every route that takes both', async (t) => {
  const messages = new Set<string>();
  for (const route of ['/api/v1/observations', '/api/v1/dead-letters', '/api/v1/alerts', '/api/v1/series', '/api/v1/export', '/api/v1/traffic/stations', '/api/v1/buildings/consumption']) {
    const res = await app.inject({ method: 'GET', url: `${route}?${new URLSearchParams({ ...BASE, from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' })}` });
    t.equal(res.statusCode, 400, route);
    t.equal(res.json().code, 'VIGIE_ERR_VALIDATION', route);
    messages.add(res.json().message);
  }
  t.equal(messages.size, 1, 'one message everywhere');
});

t.test('aggregates count against the series cap; an aggregated export over decades streams', async (t) => {
  await tp.platform.pool.query(
    `insert into latest_observations (device_id, metric, channel, time, value, quality, received_at) values ('d1', 'air_temperature', '', now(), 1, 0, now())`,
  );
  const aggs = Array.from({ length: 99 }, (_, i) => `p${i + 1}`).join(',');
  const big = await app.inject({ method: 'GET', url: `/api/v1/series?device=d1&metric=air_temperature&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=1h&agg=${aggs}` });
  t.equal(big.statusCode, 400, '8,760 buckets x 99 aggregates is over the cap');
  t.equal(big.json().code, 'VIGIE_ERR_TOO_MANY_POINTS');

  // Real HTTP: the process must keep answering /health while the export runs and after it.
  const rssBefore = process.memoryUsage().rss;
  const url = `${tp.platform.httpUrl}/api/v1/export?device=d1&metric=air_temperature&from=1900-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&bucket=1m&agg=avg`;
  const status = await new Promise<number>((resolve, reject) => {
    http.get(url, { headers: authHeaders() }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
  t.equal(status, 200, 'streamed');
  const health = await app.inject({ method: 'GET', url: '/health' });
  t.equal(health.statusCode, 200, 'still alive');
  t.ok(process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024, 'no bucket list built in memory');
});

t.test('rules: unbounded nesting, leaf counts and durations are refused', async (t) => {
  const leaf = { type: 'threshold', metric: 'co2', op: 'above', value: 1500, clear: 1300 };
  let deep: unknown = leaf;
  for (let i = 0; i < 300; i++) deep = { type: 'all', conditions: [deep] };
  const wide = { type: 'any', conditions: Array.from({ length: 32 }, () => ({ type: 'all', conditions: Array.from({ length: 32 }, () => leaf) })) };
  const base = { id: 'abuse', name: 'abuse', severity: 'warning' };
  for (const [what, rule] of [
    ['nested 300 deep', { ...base, condition: deep }],
    ['1,024 leaves', { ...base, condition: wide }],
    ['a for that overflows', { ...base, condition: leaf, for: `${'9'.repeat(400)}d` }],
    ['a window of ten years', { ...base, condition: { type: 'rate', metric: 'co2', op: 'above', value: 1, window: '3650d' } }],
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/rules', payload: rule as object });
    t.equal(res.statusCode, 400, what);
  }
  const rules = await app.inject({ method: 'GET', url: '/api/v1/rules' });
  t.equal(rules.statusCode, 200, 'rule writes and reads still answer');
});

t.test('a stored rule that no longer validates is skipped at start, and can be deleted', async (t) => {
  const bad = { id: 'stored-bad', name: 'x', severity: 'warning', condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1 }, for: '99999999999d' };
  t.notOk(ruleSchema.safeParse(bad).success, 'the schema refuses it');
  await tp.platform.pool.query(`insert into alert_rules (id, source, definition) values ('stored-bad', 'api', $1)`, [JSON.stringify(bad)]);
  const restarted = await startTestPlatform({ db: tp.db, env: { VIGIE_TIMESCALE: 'off', VIGIE_RULES_DIR: '/nonexistent' } });
  try {
    const list = await restarted.platform.app.inject({ method: 'GET', url: '/api/v1/rules' });
    t.equal(list.statusCode, 200, 'started, and lists rules');
    t.notOk(list.json().items.some((r: { rule: { id: string } }) => r.rule.id === 'stored-bad'), 'the bad rule is not loaded');
    const one = await restarted.platform.app.inject({ method: 'GET', url: '/api/v1/rules/stored-bad' });
    t.equal(one.statusCode, 409);
    t.equal(one.json().code, 'VIGIE_ERR_RULE_UNLOADABLE');
    const del = await restarted.platform.app.inject({ method: 'DELETE', url: '/api/v1/rules/stored-bad' });
    t.equal(del.statusCode, 204, 'and can be deleted');
  } finally {
    await restarted.stop();
  }
});

t.test('generated JSON bodies on every write route never answer 500', async (t) => {
  const routes = ['/api/v1/rules', '/api/v1/rules/backtest', '/api/v1/rules/r1', '/api/v1/rules/r1/backtest', '/api/v1/silences', '/api/v1/dead-letters/replay', '/api/v1/alerts/1/ack', '/ngsi/notify'];
  // Shapes close to the real ones reach deeper into validation than random values alone.
  const date = fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('+275760-09-13T00:00:00Z', '0000-01-01', '1e99', ''));
  const near = fc.record(
    {
      id: fc.oneof(fc.constant('r1'), fc.string()), name: fc.string(), severity: fc.constantFrom('info', 'warning', 'critical', 'x'),
      condition: fc.oneof(fc.constant({ type: 'threshold', metric: 'co2', op: 'above', value: 1 }), fc.jsonValue()),
      rule: fc.jsonValue(), from: date, to: date, startsAt: date, endsAt: date, reason: fc.string(), createdBy: fc.string(), user: fc.string(),
      ids: fc.array(fc.oneof(fc.integer(), fc.double())), scope: fc.jsonValue(), data: fc.array(fc.jsonValue(), { maxLength: 3 }), for: fc.string(),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(fc.jsonValue({ maxDepth: 6 }), near);
  const failures: string[] = [];
  let requests = 0;
  for (const url of routes) {
    for (const payload of fc.sample(body, { numRuns: 300, seed: 20261129 })) {
      const method = url === '/api/v1/rules/r1' ? 'PUT' : 'POST';
      const res = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
      requests++;
      if (res.statusCode >= 500) failures.push(`${method} ${url} ${JSON.stringify(payload).slice(0, 200)} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
  }
  t.same(failures.slice(0, 5), [], `${requests} generated bodies, ${failures.length} answered 5xx`);
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
});
