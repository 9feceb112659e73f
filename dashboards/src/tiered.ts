/**
 * Time series SQL that stays fast on years of data: one query, three branches, of which
 * PostgreSQL runs exactly one. Grafana replaces `$__interval_ms` with a number before the
 * query reaches the database (pkg/tsdb/grafana-postgresql-datasource/sqleng/sql_engine.go,
 * `Interpolate`), so each branch's guard (`where 60000 < 3600000`) is a constant the planner
 * folds: the other branches become a one-time `false` filter and read nothing.
 *
 * - `$__interval` below one hour: raw observations, grouped by `$__timeGroupAlias`;
 * - one hour up to a day: the hourly rollup (UTC hours), regrouped by `$__timeGroupAlias`
 *   (Grafana's intervals from 1h up are whole hours, so hourly buckets compose exactly);
 * - a day and more: the daily rollup, one point per Europe/Paris calendar day.
 *
 * The rollup relations come from the hidden variables `$hourly` and `$daily`, which pick the
 * TimescaleDB continuous aggregates (`cagg_hourly`, `cagg_daily`) when they exist and the plain
 * PostgreSQL real-time views (`series_hourly`, `series_daily`) otherwise: both have the same
 * columns (services/timeseries/series.ts, `rollupRelation`), and both include data not yet
 * materialised, so the rollup branches never lag behind the raw one.
 *
 * The time column is epoch seconds in every branch (`$__timeGroupAlias` on plain PostgreSQL
 * gives `floor(extract(epoch from col)/s)*s`), so the branches union; the datasource must keep
 * its TimescaleDB switch off (infra/grafana/provisioning/datasources/vigie.yaml), otherwise the
 * macro would emit `time_bucket(...)` (a timestamptz) in the raw branch only.
 */

export type Tier = 'raw' | 'hourly' | 'daily';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface TieredSeries {
  /** Metrics read (`x.metric in (...)`). */
  metrics: readonly string[];
  /** The value for a tier (aliased `value`): raw rows have `x.value`, `x.time`; rollups `x.n`, `x.sum`, `x.min`, `x.max`, `x.last_value`, `x.last_time`, `x.bucket`. */
  value: (tier: Tier) => string;
  /** Series name (string), from `x` and the device `d`. */
  label: string;
  /** Extra condition on the device `d` and the row `x` (template variables go here). */
  where: string;
}

const guard: Record<Tier, string> = {
  raw: `$__interval_ms < ${HOUR_MS}`,
  hourly: `$__interval_ms >= ${HOUR_MS} and $__interval_ms < ${DAY_MS}`,
  daily: `$__interval_ms >= ${DAY_MS}`,
};

const timeColumn: Record<Tier, string> = {
  raw: '$__timeGroupAlias(x.time, $__interval)',
  hourly: '$__timeGroupAlias(x.bucket, $__interval)',
  daily: 'extract(epoch from x.bucket) as "time"',
};

const relation: Record<Tier, string> = { raw: 'observations', hourly: '${hourly}', daily: '${daily}' };
const timeFilter: Record<Tier, string> = { raw: '$__timeFilter(x.time)', hourly: '$__timeFilter(x.bucket)', daily: '$__timeFilter(x.bucket)' };

export function tieredSql(s: TieredSeries): string {
  const metrics = s.metrics.map((m) => `'${m}'`).join(', ');
  const branch = (tier: Tier) => `
    select ${timeColumn[tier]}, ${s.label} as metric, ${s.value(tier)} as value
      from ${relation[tier]} x join devices d on d.id = x.device_id
     where ${guard[tier]} and ${timeFilter[tier]} and x.metric in (${metrics})
       and ${s.where}
     group by 1, 2`;
  return `${branch('raw')}\n    union all${branch('hourly')}\n    union all${branch('daily')}\n    order by 1, 2`;
}

/** Per-tier aggregate of one metric's values. */
export const agg = {
  avg: (t: Tier) => (t === 'raw' ? 'avg(x.value)' : 'sum(x.sum) / sum(x.n)'),
  min: (t: Tier) => (t === 'raw' ? 'min(x.value)' : 'min(x.min)'),
  max: (t: Tier) => (t === 'raw' ? 'max(x.value)' : 'max(x.max)'),
  sum: (t: Tier) => (t === 'raw' ? 'sum(x.value)' : 'sum(x.sum)'),
  last: (t: Tier) => (t === 'raw' ? '(array_agg(x.value order by x.time desc))[1]' : '(array_agg(x.last_value order by x.last_time desc))[1]'),
  /** A count per bucket as a rate per hour (veh/h); a local day has 23, 24 or 25 hours. */
  perHour: (t: Tier) =>
    t === 'daily'
      ? `sum(x.sum) / (extract(epoch from max(((x.bucket at time zone 'Europe/Paris') + interval '1 day') at time zone 'Europe/Paris' - x.bucket)) / 3600)`
      : `${t === 'raw' ? 'sum(x.value)' : 'sum(x.sum)'} / ($__interval_ms / 3600000.0)`,
};
