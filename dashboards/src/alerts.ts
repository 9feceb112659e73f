/**
 * Alerts (tables `alerts` and `alert_events`, services/store/migrations/once/020_alerting.sql)
 * and the platform's own health from its Prometheus metrics (services/telemetry.ts,
 * services/alerting/instruments.ts, scraped from GET /metrics).
 */
import { DataqueryBuilder as PromQuery } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboard, valueMap } from './common.ts';
import { PROM } from './datasources.ts';
import { sql } from './postgres-query.ts';

const COLUMNS = `a.id, a.severity, a.rule_name, a.device_id, a.channel, a.state, a.started_at, a.fired_at, a.last_value, a.summary, a.silenced`;

const openSql = `
  select ${COLUMNS}
    from alerts a
   where a.state <> 'resolved' and a.acked_at is null
   order by a.severity, a.started_at desc`;

const ackedSql = `
  select ${COLUMNS}, a.acked_at, a.acked_by, a.ack_comment
    from alerts a
   where a.state <> 'resolved' and a.acked_at is not null
   order by a.acked_at desc`;

const resolvedSql = `
  select ${COLUMNS}, a.resolved_at, a.acked_by
    from alerts a
   where a.state = 'resolved' and $__timeFilter(a.resolved_at)
   order by a.resolved_at desc
   limit 500`;

const eventsSql = `
  select e.time, e.type, a.id as alert_id, a.rule_name, a.device_id, a.channel, e.value, e.detail::text as detail, e.at
    from alert_events e join alerts a on a.id = e.alert_id
   where $__timeFilter(e.time)
   order by e.time desc, e.id desc
   limit 1000`;

/** Each alert's life: pending at started_at, firing at fired_at, resolved at resolved_at. */
const timelineSql = `
  select extract(epoch from t.at) as "time", a.rule_name || ' ' || a.device_id || case when a.channel <> '' then ' ' || a.channel else '' end as metric, t.state as value
    from alerts a
    cross join lateral (values (a.started_at, 1), (a.fired_at, 2), (a.resolved_at, 0)) as t(at, state)
   where t.at is not null and a.started_at <= $__timeTo()::timestamptz and coalesce(a.resolved_at, now()) >= $__timeFrom()::timestamptz
   order by 1, 2`;

const eventCountsSql = `
  select $__timeGroupAlias(e.time, $__interval), e.type as metric, count(*)::float8 as value
    from alert_events e
   where $__timeFilter(e.time)
   group by 1, 2 order by 1, 2`;

const deadLettersSql = `
  select $__timeGroupAlias(dl.received_at, $__interval), dl.code as metric, sum(dl.occurrences)::float8 as value
    from dead_letters dl
   where $__timeFilter(dl.received_at)
   group by 1, 2 order by 1, 2`;

const prom = (expr: string, legend: string, refId = 'A') => new PromQuery().datasource(PROM).expr(expr).legendFormat(legend).refId(refId);

export function alertsDashboard() {
  return dashboard('vigie-alerts', 'Vigie — alerts and platform health', ['alerts', 'operations'])
    .withRow(new RowBuilder('Alerts'))
    .withPanel(new TablePanel().title('Open alerts (not acknowledged)').span(24).height(8).withTarget(sql(openSql, 'table')))
    .withPanel(new TablePanel().title('Acknowledged alerts').span(12).height(8).withTarget(sql(ackedSql, 'table')))
    .withPanel(new TablePanel().title('Resolved alerts in the range').span(12).height(8).withTarget(sql(resolvedSql, 'table')))
    .withPanel(
      new StateTimelinePanel()
        .title('Alert timeline')
        .span(24)
        .height(9)
        .mappings([
          valueMap([
            { value: 0, text: 'resolved', color: 'green' },
            { value: 1, text: 'pending', color: 'yellow' },
            { value: 2, text: 'firing', color: 'red' },
          ]),
        ])
        .withTarget(sql(timelineSql)),
    )
    .withPanel(new TimeseriesPanel().title('Alert events by type').span(12).height(8).withTarget(sql(eventCountsSql)))
    .withPanel(new TablePanel().title('Alert events').span(12).height(8).withTarget(sql(eventsSql, 'table')))
    .withRow(new RowBuilder('Platform health'))
    .withPanel(
      new TimeseriesPanel()
        .title('Ingest rate (per second)')
        .unit('ops')
        .span(8)
        .height(8)
        .withTarget(prom('sum(rate(vigie_messages_received_total[$__rate_interval]))', 'messages received'))
        .withTarget(prom('sum(rate(vigie_observations_stored_total[$__rate_interval]))', 'observations committed', 'B'))
        .withTarget(prom('sum(rate(vigie_commit_failures_total[$__rate_interval]))', 'commit failures (retried)', 'C')),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Commit latency')
        .unit('s')
        .span(8)
        .height(8)
        .withTarget(prom('histogram_quantile(0.5, sum by (le) (rate(vigie_commit_seconds_bucket[$__rate_interval])))', 'p50'))
        .withTarget(prom('histogram_quantile(0.99, sum by (le) (rate(vigie_commit_seconds_bucket[$__rate_interval])))', 'p99', 'B')),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('In-flight messages per process')
        .description('Received and not yet acknowledged. Stuck at VIGIE_MAX_INFLIGHT: the database does not keep up or is down.')
        .span(8)
        .height(8)
        .withTarget(prom('sum by (instance) (vigie_inflight_messages)', '{{instance}}')),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Dead letters by reason (code)')
        .description('From the dead_letters table (counts identical rejections); the Prometheus counter vigie_dead_letters_total gives the rate.')
        .span(8)
        .height(8)
        .withTarget(sql(deadLettersSql)),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Rule evaluation lag (commit to evaluated)')
        .unit('s')
        .span(8)
        .height(8)
        .withTarget(prom('histogram_quantile(0.99, sum by (le) (rate(vigie_alert_step_seconds_bucket[$__rate_interval])))', 'p99'))
        .withTarget(prom('sum(rate(vigie_alert_late_observations_total[$__rate_interval]))', 'late observations/s', 'B')),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Dead letters and alert transitions (per second)')
        .unit('ops')
        .span(8)
        .height(8)
        .withTarget(prom('sum(rate(vigie_dead_letters_total[$__rate_interval]))', 'dead letters'))
        .withTarget(prom('sum by (kind) (rate(vigie_alert_transitions_total[$__rate_interval]))', '{{kind}}', 'B')),
    );
}
