/**
 * Road ice risk from one road-weather station's current readings: pure, no I/O, so the alerting
 * engine can apply the same rules (rules/roads.yaml; services/roads/ice-risk-rules.test.ts keeps
 * the two in step). Thresholds are tunable defaults, not law. Levels, most severe first:
 * - ice (verglas): surface temp <= freezing point (0 °C when none is reported) with moisture,
 *   or the station itself reports iceWarning;
 * - snow: the station reports snowWarning (snow or slush on the surface);
 * - frost (givre): the station reports frost; or surface temp <= 0 °C and <= dew point; or dew
 *   on a surface at or below 0 °C (condensation on a sub-zero surface freezes as hoar frost);
 * - pre-alert: surface temp within `preAlertMarginC` above the freezing point and falling over
 *   the last hour, with moisture (the 1-3 h lead time for pre-treatment); or the station reports
 *   iceWatch or snowWatch;
 * - unknown: no surface temperature (and no frozen state reported), or the last reading is older
 *   than `stalePeriods` periods (stale guard);
 * - none: otherwise.
 * Moisture is any surface state other than undefined, other, error and dry (so trace moisture,
 * wet, chemically wet, the ice and snow states, absorption, dew, frost and absorption at dew
 * point all count), a water film > 0 or precipitation > 0.
 * Hysteresis belongs to the alerting engine, which keeps state; this is the instant level.
 */

/**
 * NTCIP 1204 essSurfaceStatus (ESS MIB, essPavementSensorTable column 7, OID
 * 1.3.6.1.4.1.1206.4.2.5.2.9.2.1.7): INTEGER { other(1), error(2), dry(3), traceMoisture(4),
 * wet(5), chemicallyWet(6), iceWarning(7), iceWatch(8), snowWarning(9), snowWatch(10),
 * absorption(11), dew(12), frost(13), absorptionAtDewpoint(14) }. The codes are not ordered by
 * severity. 0 is not an NTCIP value: Vigie shows it as "undefined" (some gateways send 0 for
 * "no reading").
 */
export const SURFACE_STATES: Record<number, string> = {
  0: 'undefined',
  1: 'other',
  2: 'error',
  3: 'dry',
  4: 'traceMoisture',
  5: 'wet',
  6: 'chemicallyWet',
  7: 'iceWarning',
  8: 'iceWatch',
  9: 'snowWarning',
  10: 'snowWatch',
  11: 'absorption',
  12: 'dew',
  13: 'frost',
  14: 'absorptionAtDewpoint',
};

/** What each essSurfaceStatus code says about ice (the table of the docs/time-series.md, "Road conditions now"). */
export const SURFACE_STATE_ROLE: Record<number, 'no-reading' | 'dry' | 'moisture' | 'ice' | 'snow' | 'frost' | 'watch' | 'dew'> = {
  0: 'no-reading',
  1: 'no-reading',
  2: 'no-reading',
  3: 'dry',
  4: 'moisture',
  5: 'moisture',
  6: 'moisture',
  7: 'ice',
  8: 'watch',
  9: 'snow',
  10: 'watch',
  11: 'moisture',
  12: 'dew',
  13: 'frost',
  14: 'moisture',
};

/** Codes that mean water, ice, snow or their precursors on the surface (rules/roads.yaml uses the same list). */
export const MOISTURE_STATES: readonly number[] = Object.entries(SURFACE_STATE_ROLE)
  .filter(([, role]) => role !== 'no-reading' && role !== 'dry')
  .map(([code]) => Number(code));

export type IceRiskLevel = 'ice' | 'snow' | 'frost' | 'pre-alert' | 'none' | 'unknown';

export interface RoadReadings {
  surfaceTemperature?: number | null;
  freezingPoint?: number | null;
  dewPoint?: number | null;
  surfaceState?: number | null;
  waterFilm?: number | null;
  precipitationRate?: number | null;
  /** Surface temperature trend over the last hour, °C per hour. */
  trendPerHour?: number | null;
  /** Age of the latest reading used (surface temperature, else surface state) and the station's period, for the stale guard. */
  ageSeconds?: number | null;
  periodSeconds?: number | null;
}

export interface IceRiskOptions {
  preAlertMarginC: number;
  /** A fall slower than this (°C/h) is "steady", not "falling". */
  fallingThresholdPerHour: number;
  stalePeriods: number;
}

/** The same thresholds as the ice pre-alert rule of rules/roads.yaml (2 °C margin, falling faster than 0.5 °C/h). */
export const DEFAULT_ICE_RISK_OPTIONS: IceRiskOptions = { preAlertMarginC: 2, fallingThresholdPerHour: -0.5, stalePeriods: 2 };

export interface IceRisk {
  level: IceRiskLevel;
  /** Surface temperature minus the effective freezing point, °C. */
  marginToFreezing: number | null;
  moisture: boolean;
  reasons: string[];
}

const num = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export function assessIceRisk(r: RoadReadings, o: IceRiskOptions = DEFAULT_ICE_RISK_OPTIONS): IceRisk {
  const reasons: string[] = [];
  const role = num(r.surfaceState) ? SURFACE_STATE_ROLE[r.surfaceState] : undefined;
  const stateLabel = num(r.surfaceState) ? (SURFACE_STATES[r.surfaceState] ?? `code ${r.surfaceState}`) : '';
  const moistState = num(r.surfaceState) && MOISTURE_STATES.includes(r.surfaceState);
  const film = num(r.waterFilm) && r.waterFilm > 0;
  const precip = num(r.precipitationRate) && r.precipitationRate > 0;
  const moisture = moistState || film || precip;
  if (moistState) reasons.push(`station reports ${stateLabel}`);
  if (film) reasons.push(`water film ${r.waterFilm} mm`);
  if (precip) reasons.push(`precipitation ${r.precipitationRate} mm/h`);

  const period = num(r.periodSeconds) ? r.periodSeconds : 360;
  const stale = num(r.ageSeconds) && r.ageSeconds > o.stalePeriods * period;
  const hasTemp = num(r.surfaceTemperature);
  const freezing = num(r.freezingPoint) ? r.freezingPoint : 0;
  const margin = hasTemp ? round(r.surfaceTemperature! - freezing) : null;
  const out = (level: IceRiskLevel, ...why: string[]): IceRisk => ({ level, marginToFreezing: margin, moisture, reasons: [...why, ...reasons] });

  if (stale) return { level: 'unknown', marginToFreezing: margin, moisture, reasons: [`last reading is ${Math.round(r.ageSeconds! / 60)} min old`] };
  if (!hasTemp) {
    // The station's own detector still speaks when the temperature sensor does not.
    if (role === 'ice') return out('ice');
    if (role === 'snow') return out('snow');
    if (role === 'frost') return out('frost');
    return { level: 'unknown', marginToFreezing: null, moisture, reasons: ['no surface temperature', ...reasons] };
  }
  const t = r.surfaceTemperature!;
  if (margin! <= 0 && moisture) return out('ice', `surface ${t} °C at or below freezing point ${freezing} °C`);
  if (role === 'ice') return out('ice');
  if (role === 'snow') return out('snow');
  if (role === 'frost') return out('frost');
  if (t <= 0 && num(r.dewPoint) && t <= r.dewPoint) return out('frost', `surface ${t} °C at or below 0 °C and dew point ${r.dewPoint} °C`);
  if (role === 'dew' && t <= 0) return out('frost', `dew on a surface at ${t} °C`);
  const falling = num(r.trendPerHour) && r.trendPerHour <= o.fallingThresholdPerHour;
  if (moisture && margin! <= o.preAlertMarginC && falling) return out('pre-alert', `${margin} °C above freezing and falling ${r.trendPerHour} °C/h`);
  if (role === 'watch') return out('pre-alert');
  return out('none');
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
