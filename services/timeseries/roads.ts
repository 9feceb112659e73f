/** Current road conditions per road-weather station: latest readings, last-hour trend, ice risk. */
import type pg from 'pg';
import { assessIceRisk, SURFACE_STATES, type IceRisk } from '../roads/ice-risk.ts';

export interface RoadCondition {
  deviceId: string;
  name: string | null;
  road: unknown;
  time: string | null;
  surfaceState: { code: number; label: string } | null;
  surfaceTemperature: number | null;
  freezingPoint: number | null;
  dewPoint: number | null;
  airTemperature: number | null;
  waterFilm: number | null;
  precipitationRate: number | null;
  marginToFreezing: number | null;
  /** Surface temperature trend over the hour before the latest reading, °C/h (least squares). */
  trendPerHour: number | null;
  iceRisk: IceRisk;
}

const METRICS = ['surface_temperature', 'freezing_point', 'dew_point', 'air_temperature', 'surface_state', 'water_film', 'precipitation_rate'];

export async function roadConditions(pool: pg.Pool, q: { devices?: string[]; now?: Date }): Promise<RoadCondition[]> {
  const now = q.now ?? new Date();
  const { rows } = await pool.query(
    `with stations as (
       select d.id, d.name, d.road, d.period_seconds from devices d
        where ${q.devices ? 'd.id = any($2)' : `d.kind = 'road-weather-station'`}
     ), latest as (
       select l.device_id, jsonb_object_agg(l.metric, jsonb_build_object('v', l.value, 't', l.time)) as m
         from latest_observations l join stations s on s.id = l.device_id
        where l.metric = any($1) and l.channel = ''
        group by l.device_id
     )
     select s.id, s.name, s.road, s.period_seconds, l.m,
            (select regr_slope(o.value, extract(epoch from o.time)) * 3600
               from observations o
              where o.device_id = s.id and o.metric = 'surface_temperature' and o.channel = ''
                and o.time > (l.m->'surface_temperature'->>'t')::timestamptz - interval '1 hour'
                and o.time <= (l.m->'surface_temperature'->>'t')::timestamptz) as trend
       from stations s left join latest l on l.device_id = s.id
      order by s.id`,
    q.devices ? [METRICS, q.devices] : [METRICS],
  );
  return rows.map((r) => {
    const m = (r.m ?? {}) as Record<string, { v: number; t: string }>;
    const v = (k: string) => (m[k] ? Number(m[k].v) : null);
    const surfaceTime = m.surface_temperature ? new Date(m.surface_temperature.t) : null;
    // Stale guard on the reading the level rests on: the surface temperature, else the state.
    const basis = surfaceTime ?? (m.surface_state ? new Date(m.surface_state.t) : null);
    const trend = r.trend === null ? null : Math.round(Number(r.trend) * 100) / 100;
    const state = v('surface_state');
    const risk = assessIceRisk({
      surfaceTemperature: v('surface_temperature'),
      freezingPoint: v('freezing_point'),
      dewPoint: v('dew_point'),
      surfaceState: state,
      waterFilm: v('water_film'),
      precipitationRate: v('precipitation_rate'),
      trendPerHour: trend,
      ageSeconds: basis ? (now.getTime() - basis.getTime()) / 1000 : null,
      periodSeconds: r.period_seconds,
    });
    return {
      deviceId: r.id,
      name: r.name,
      road: r.road,
      time: surfaceTime ? surfaceTime.toISOString() : null,
      surfaceState: state === null ? null : { code: state, label: SURFACE_STATES[state] ?? 'unknown' },
      surfaceTemperature: v('surface_temperature'),
      freezingPoint: v('freezing_point'),
      dewPoint: v('dew_point'),
      airTemperature: v('air_temperature'),
      waterFilm: v('water_film'),
      precipitationRate: v('precipitation_rate'),
      marginToFreezing: risk.marginToFreezing,
      trendPerHour: trend,
      iceRisk: risk,
    };
  });
}
