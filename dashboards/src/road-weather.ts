/**
 * Road weather: surface temperature against the freezing and dew points, the NTCIP 1204
 * surface state, the ice risk per station (also on a map), precipitation and wind.
 */
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { ThresholdsConfigBuilder, ThresholdsMode } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboard, valueMap } from './common.ts';
import { ICE_LEVELS, iceRiskSql } from './ice-risk-sql.ts';
import { sql } from './postgres-query.ts';
import { agg, tieredSql } from './tiered.ts';
import { rollups, route, station } from './variables.ts';
import { stationsMap } from './geomap.ts';

const STATIONS = `d.id in ($station)`;

/** NTCIP 1204 v04, essSurfaceStatus (1.3.6.1.4.1.1206.4.2.5.6.2.1.3): the 15 states. */
export const SURFACE_STATES: Array<{ value: number; text: string; color: string }> = [
  { value: 0, text: 'undefined', color: 'text' },
  { value: 1, text: 'other', color: 'text' },
  { value: 2, text: 'error', color: 'purple' },
  { value: 3, text: 'dry', color: 'green' },
  { value: 4, text: 'trace moisture', color: 'super-light-blue' },
  { value: 5, text: 'wet', color: 'blue' },
  { value: 6, text: 'chemically wet', color: 'light-blue' },
  { value: 7, text: 'ice warning', color: 'red' },
  { value: 8, text: 'ice watch', color: 'orange' },
  { value: 9, text: 'snow warning', color: 'dark-red' },
  { value: 10, text: 'snow watch', color: 'light-orange' },
  { value: 11, text: 'absorption', color: 'light-yellow' },
  { value: 12, text: 'dew', color: 'super-light-blue' },
  { value: 13, text: 'frost', color: 'orange' },
  { value: 14, text: 'absorption at dew point', color: 'yellow' },
];

export function roadWeatherDashboard() {
  return dashboard('vigie-road-weather', 'Vigie — road weather', ['roads'])
    .variables([route(), station('road-weather-station'), ...rollups()])
    .withPanel(
      new TimeseriesPanel()
        .title('Surface temperature, freezing point and dew point (°C)')
        .description('Ice forms when the surface is at or below the freezing point of the solution on it (0 °C for water) with moisture; frost when it is at or below 0 °C and the dew point.')
        .unit('celsius')
        .span(24)
        .height(9)
        .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([{ value: null, color: 'blue' }, { value: 0, color: 'transparent' }]))
        .withTarget(
          sql(tieredSql({ metrics: ['surface_temperature', 'freezing_point', 'dew_point'], value: agg.avg, label: `d.id || ' ' || x.metric`, where: STATIONS })),
        ),
    )
    .withPanel(
      new StateTimelinePanel()
        .title('Surface state (NTCIP 1204 essSurfaceStatus)')
        .description('Last reported state per interval; on long ranges, the last state of each hour or day.')
        .span(24)
        .height(8)
        .mappings([valueMap(SURFACE_STATES)])
        .withTarget(sql(tieredSql({ metrics: ['surface_state'], value: agg.last, label: 'd.id', where: STATIONS }))),
    )
    .withPanel(
      new TablePanel()
        .title('Ice risk per station (now)')
        .description('Same rules as GET /api/v1/roads/conditions: ice, frost, pre-alert (within 2 °C of freezing and falling faster than 0.5 °C/h with moisture), unknown when the last surface temperature is older than two periods.')
        .span(12)
        .height(10)
        .overrideByName('ice_risk', [{ id: 'mappings', value: [valueMap(ICE_LEVELS)] }, { id: 'custom.cellOptions', value: { type: 'color-background' } }])
        .overrideByName('surface_state', [{ id: 'mappings', value: [valueMap(SURFACE_STATES)] }])
        .withTarget(sql(iceRiskSql, 'table')),
    )
    .withPanel(stationsMap('Stations by ice risk', iceRiskSql, 'ice_risk', ICE_LEVELS).span(12).height(10))
    .withPanel(
      new TimeseriesPanel()
        .title('Precipitation rate (mm/h)')
        .unit('mm/h')
        .span(12)
        .height(8)
        .withTarget(sql(tieredSql({ metrics: ['precipitation_rate'], value: agg.avg, label: 'd.id', where: STATIONS }))),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Wind: mean speed and gusts (m/s)')
        .unit('velocityms')
        .span(12)
        .height(8)
        .withTarget(sql(tieredSql({ metrics: ['wind_speed'], value: agg.avg, label: `d.id || ' mean'`, where: STATIONS }), 'time_series', 'A'))
        .withTarget(sql(tieredSql({ metrics: ['wind_gust'], value: agg.max, label: `d.id || ' gust'`, where: STATIONS }), 'time_series', 'B')),
    );
}
