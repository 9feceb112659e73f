/**
 * The dashboards: the committed JSON is what dashboards/src/ builds (run `npm run dashboards`
 * after changing the code), and every panel query, expanded exactly as Grafana expands it
 * (grafana-sql.ts), runs against a real database filled through the real ingest path, in each
 * storage mode (monthly partitions and Vigie rollups, or the TimescaleDB hypertable and its
 * continuous aggregates), on the raw, hourly-rollup and daily-rollup branches, with the columns
 * and types Grafana needs and rows in the result. The Prometheus panels only name metrics the
 * platform exports.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { consumption } from '../services/timeseries/buildings.ts';
import { roadConditions } from '../services/timeseries/roads.ts';
import { forEachStorageMode, type StorageMode } from '../test/helpers/database.ts';
import { startFixture } from './fixture.ts';
import { expandGrafanaSql, formatInterval, goFloat, replaceVariables, rfc3339Nano } from './grafana-sql.ts';
import { resolveVariables, sqlTargets, type DashboardJson } from './panels.ts';
import { renderDashboards } from './src/index.ts';

const dir = path.dirname(fileURLToPath(import.meta.url));
const rendered = renderDashboards();

t.test('the committed JSON is what the code builds', async (t) => {
  const committed = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  t.same(committed, Object.keys(rendered).sort(), 'one JSON file per dashboard built, no stale file');
  for (const [file, text] of Object.entries(rendered)) {
    t.equal(readFileSync(path.join(dir, file), 'utf8'), text, `${file} is up to date (run npm run dashboards)`);
  }
});

t.test("the expansion reproduces Grafana's", async (t) => {
  const range = { from: new Date('2017-07-18T11:15:52Z'), to: new Date('2017-07-18T11:25:52.250Z'), intervalMs: 60_000 };
  const x = (sql: string, variables = {}) => expandGrafanaSql(sql, { ...range, variables });
  // macros_test.go cases (pkg/tsdb/grafana-postgresql-datasource).
  t.equal(x('select $__timeFilter(time_column)'), "select time_column BETWEEN '2017-07-18T11:15:52Z' AND '2017-07-18T11:25:52.25Z'");
  t.equal(x("GROUP BY $__timeGroup(time_column,'5m')"), 'GROUP BY floor(extract(epoch from time_column)/300)*300');
  t.equal(x("select $__timeGroup(time_column,'5m'), x"), 'select floor(extract(epoch from time_column)/300)*300 AS "time", x', 'pre-5.3 alias form');
  t.equal(x('select $__timeGroupAlias(time, $__interval)'), 'select floor(extract(epoch from time)/60)*60 AS "time"');
  t.equal(x('select $__timeFrom(), $__timeTo()'), "select '2017-07-18T11:15:52Z', '2017-07-18T11:25:52.25Z'");
  t.equal(x('select $__unixEpochFilter(t), $__unixEpochFrom()'), 'select t >= 1500376552 AND t <= 1500377152, 1500376552');
  t.equal(x('select $__interval_ms, $__interval'), 'select 60000, 1m');
  t.equal(formatInterval(86_400_000), '1d');
  t.equal(formatInterval(7_200_000), '2h');
  t.equal(goFloat(3600), '3600');
  t.equal(goFloat(2_592_000), '2.592e+06');
  t.equal(rfc3339Nano(new Date('2026-01-01T00:00:00.000Z')), '2026-01-01T00:00:00Z');
  // Variables: SqlDatasource.interpolateVariable and the format registry.
  const v = { one: { value: "l'Europe" }, many: { value: ['a', "b'c"], multi: true, includeAll: true } };
  t.equal(replaceVariables("x in ($many) and y = '$one'", { ...range, variables: v }), "x in ('a','b''c') and y = 'l''Europe'");
  t.equal(replaceVariables('${many:csv} [[many]] ${many:sqlstring} ${many:singlequote}', { ...range, variables: v }), "a,b'c 'a','b''c' 'a','b''c' 'a','b\\'c'");
  t.equal(replaceVariables('$unknown ${__timeFilter}', { ...range, variables: v }), '$unknown ${__timeFilter}', 'unknown names stay');
});

await forEachStorageMode(t, suite);

async function suite(t: Test, mode: StorageMode): Promise<void> {
  const fixture = await startFixture(mode);
  t.teardown(() => fixture.stop());
  const { rows: relations } = await fixture.tp.platform.pool.query(`select to_regclass('cagg_hourly') is not null as cagg`);
  t.equal(relations[0].cagg, mode === 'timescale', 'the rollup relations of the mode');
  const pool = fixture.tp.platform.pool;
  const from = new Date(fixture.now.getTime() - 4 * 86_400_000);
  const to = new Date(fixture.now.getTime() + 60_000);

  const TIME_TYPES = new Set([1700, 701, 1184, 20, 23]); // numeric, float8, timestamptz, int8, int4
  const NUMBER_TYPES = new Set([1700, 701, 700, 20, 21, 23]);
  const TEXT_TYPES = new Set([25, 1043]);

  /** Panels whose data is not a function of the interval: run once. */
  const ONCE = new Set(['table', 'geomap']);

  for (const [file, text] of Object.entries(rendered)) {
    const dashboard = JSON.parse(text) as DashboardJson;
    t.test(file, async (t) => {
      const variables = await resolveVariables(pool, dashboard, { from, to, intervalMs: 60_000 });
      for (const [name, v] of Object.entries(variables)) t.ok(v.value.length > 0, `variable ${name} has values`);
      for (const target of sqlTargets(dashboard)) {
        const intervals = ONCE.has(target.type) ? [60_000] : [60_000, 3_600_000, 86_400_000];
        for (const intervalMs of intervals) {
          const what = `${target.panel} [${target.refId}] at $__interval ${formatInterval(intervalMs)}`;
          const sqlText = expandGrafanaSql(target.rawSql, { from, to, intervalMs, variables });
          t.notMatch(sqlText, /\$\w|\[\[/, `${what}: nothing left unexpanded`);
          const res = await pool.query(sqlText).catch((err: Error) => {
            t.fail(`${what}: ${err.message}\n${sqlText}`);
            return undefined;
          });
          if (!res) continue;
          t.ok(res.rows.length > 0, `${what}: rows`);
          const types = Object.fromEntries(res.fields.map((f) => [f.name, f.dataTypeID]));
          if (target.format === 'time_series') {
            t.ok(TIME_TYPES.has(types.time!), `${what}: a time column`);
            for (const [name, type] of Object.entries(types)) {
              if (name === 'time') continue;
              if (name === 'metric') t.ok(TEXT_TYPES.has(type), `${what}: metric is text`);
              else t.ok(NUMBER_TYPES.has(type), `${what}: ${name} is a number`);
            }
          }
          if (target.type === 'geomap') t.ok('latitude' in types && 'longitude' in types, `${what}: coordinates`);
        }
      }
    });
  }

  t.test('the ice risk panel agrees with GET /api/v1/roads/conditions', async (t) => {
    const d = JSON.parse(rendered['vigie-road-weather.json']!) as DashboardJson;
    const variables = await resolveVariables(pool, d, { from, to, intervalMs: 60_000 });
    const target = sqlTargets(d).find((x) => x.panel.startsWith('Ice risk per station'))!;
    const { rows } = await pool.query(expandGrafanaSql(target.rawSql, { from, to, intervalMs: 60_000, variables }));
    const api = await roadConditions(pool, {});
    const level: Record<string, number> = { unknown: -1, none: 0, 'pre-alert': 1, frost: 2, snow: 3, ice: 4 };
    t.same(
      Object.fromEntries(rows.map((r) => [r.station, r.ice_risk])),
      Object.fromEntries(api.map((c) => [c.deviceId, level[c.iceRisk.level]])),
    );
    t.same(Object.fromEntries(rows.map((r) => [r.station, r.ice_risk])), { 'rws-a': 1, 'rws-b': 4, 'rws-c': 3, 'rws-d': -1 }, 'a pre-alert, an ice alarm, snow reported without a temperature, a stale station');
  });

  t.test('the hourly branch counts the same vehicles as the raw one', async (t) => {
    const d = JSON.parse(rendered['vigie-traffic.json']!) as DashboardJson;
    const variables = await resolveVariables(pool, d, { from, to, intervalMs: 60_000 });
    const flow = sqlTargets(d).find((x) => x.panel.startsWith('Flow per lane'))!;
    // Whole hours inside the data, so both branches see the same rows.
    const { rows: days } = await pool.query(`select date_trunc('day', now() - interval '3 days', 'Europe/Paris') as a, date_trunc('day', now() - interval '1 day', 'Europe/Paris') as b`);
    const range = { from: days[0].a as Date, to: new Date((days[0].b as Date).getTime() - 1) };
    const total = async (intervalMs: number) => {
      const { rows } = await pool.query(expandGrafanaSql(flow.rawSql, { ...range, intervalMs, variables }));
      return rows.reduce((n, r) => n + Number(r.value) * (intervalMs / 3_600_000), 0);
    };
    const { rows: truth } = await pool.query(`select sum(value)::float8 as n from observations where metric = 'vehicle_count' and time >= $1 and time <= $2`, [range.from, range.to]);
    t.equal(Math.round(await total(60_000)), truth[0].n, 'raw');
    t.equal(Math.round(await total(3_600_000)), truth[0].n, 'hourly rollup');
  });

  t.test('the Prometheus panels name metrics the platform exports', async (t) => {
    const res = await fixture.tp.platform.app.inject({ method: 'GET', url: '/metrics' });
    const exported = new Set([...res.body.matchAll(/^# TYPE (\w+)/gm)].map((m) => m[1]));
    for (const text of Object.values(rendered)) {
      for (const p of (JSON.parse(text) as DashboardJson).panels) {
        for (const target of p.targets ?? []) {
          for (const m of target.expr?.matchAll(/\b(vigie_\w+?)(?:_bucket)?\b(?=[[{\s)]|$)/g) ?? []) t.ok(exported.has(m[1]!), `${p.title}: ${m[1]} is exported`);
        }
      }
    }
  });

  t.test('energy per day agrees with GET /api/v1/buildings/consumption (a counter reset included)', async (t) => {
    const d = JSON.parse(rendered['vigie-buildings.json']!) as DashboardJson;
    const target = sqlTargets(d).find((x) => x.panel.startsWith('Energy per day'))!;
    const { rows: days } = await pool.query(`select date_trunc('day', now() - interval '3 days', 'Europe/Paris') as a, date_trunc('day', now(), 'Europe/Paris') as b`);
    const range = { from: days[0].a as Date, to: days[0].b as Date };
    const variables = await resolveVariables(pool, d, { ...range, intervalMs: 86_400_000 });
    t.same(variables.building?.value, ["college l'Europe"], 'a building name with a quote');
    // $__timeFilter is BETWEEN (both ends included), the API's range excludes its end.
    const { rows } = await pool.query(expandGrafanaSql(target.rawSql, { from: range.from, to: new Date(range.to.getTime() - 1), intervalMs: 86_400_000, variables }));
    const api = await consumption(pool, { building: "college l'Europe", metric: 'energy', bucket: 'day', from: range.from, to: range.to, tz: 'Europe/Paris' });
    const round = (v: number) => Math.round(v * 1000) / 1000;
    t.same(
      rows.map((r) => [new Date(Number(r.time) * 1000).toISOString(), round(Number(r.value))]),
      api.points.map((p) => [new Date(p.time).toISOString(), round(p.consumption ?? 0)]),
    );
    t.equal(api.resets, 1, 'the fixture has a meter reset in the range');
  });
}
