/**
 * Template variables. Query variables run on the PostgreSQL datasource; multi-value and
 * "All" values reach the SQL as a quoted list (`'a','b'`), which is how Grafana's SQL
 * datasources format a multi/include-all variable (packages/grafana-sql/src/datasource/
 * SqlDatasource.ts, `interpolateVariable`), so panels use `in ($station)`.
 */
import { QueryVariableBuilder, VariableHide, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { PG } from './datasources.ts';

function multi(name: string, label: string, query: string) {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PG)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .current({ text: 'All', value: '$__all' });
}

/** Devices without a route are listed under `(none)` rather than hidden. */
export const ROUTE_OF = `coalesce(d.road->>'route', '(none)')`;
export const BUILDING_OF = `coalesce(d.building->>'building', '(none)')`;
export const ZONE_OF = `coalesce(d.building->>'zone', '(none)')`;

export const route = () => multi('route', 'Route', `select distinct ${ROUTE_OF} from devices d where d.domain = 'roads' order by 1`);

export const station = (kind: string) =>
  multi('station', 'Station', `select d.id from devices d where d.kind = '${kind}' and ${ROUTE_OF} in ($route) order by 1`);

export const building = () => multi('building', 'Building', `select distinct ${BUILDING_OF} from devices d where d.domain = 'buildings' order by 1`);

export const zone = () =>
  multi('zone', 'Zone', `select distinct ${ZONE_OF} from devices d where d.domain = 'buildings' and ${BUILDING_OF} in ($building) order by 1`);

/**
 * The rollup relations for long ranges: TimescaleDB continuous aggregates when present, the
 * plain PostgreSQL real-time views otherwise (see tiered.ts). Single-valued, so Grafana
 * inserts the name unquoted.
 */
const relation = (name: 'hourly' | 'daily') => {
  const query = `select case when to_regclass('cagg_${name}') is not null then 'cagg_${name}' else 'series_${name}' end`;
  return new QueryVariableBuilder(name).label(`${name} rollup`).datasource(PG).query(query).definition(query).refresh(VariableRefresh.OnDashboardLoad).hide(VariableHide.HideVariable);
};
export const rollups = () => [relation('hourly'), relation('daily')];
