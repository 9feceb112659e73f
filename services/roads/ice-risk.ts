/**
 * Road ice risk from one road-weather station's current readings: pure, no I/O, so the alerting
 * engine can apply the same rules (DOMAIN.md, "Ice and frost logic"; thresholds are tunable
 * defaults, not law):
 * - ice alarm (verglas): surface temp <= freezing point (0 °C when none is reported) with
 *   moisture (wet, chemically wet, trace moisture or ice states; a water film; precipitation);
 * - frost (givre): surface temp <= 0 °C and <= dew point;
 * - pre-alert: surface temp within `preAlertMarginC` above the freezing point and falling over
 *   the last hour, with moisture (the 1-3 h lead time for pre-treatment);
 * - unknown: no surface temperature, or the last one is older than two periods (stale guard).
 * Hysteresis belongs to the alerting engine, which keeps state; this is the instant level.
 */

/** NTCIP 1204 essSurfaceStatus codes (not ordered by severity). */
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

/** States that mean water on the surface (DOMAIN.md: wet/chemicallyWet/traceMoisture/ice*). */
const MOIST_STATES = new Set([4, 5, 6, 7, 8]);

export type IceRiskLevel = 'ice' | 'frost' | 'pre-alert' | 'none' | 'unknown';

export interface RoadReadings {
  surfaceTemperature?: number | null;
  freezingPoint?: number | null;
  dewPoint?: number | null;
  surfaceState?: number | null;
  waterFilm?: number | null;
  precipitationRate?: number | null;
  /** Surface temperature trend over the last hour, °C per hour. */
  trendPerHour?: number | null;
  /** Age of the surface temperature reading and the station's period, for the stale guard. */
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
  const moistState = num(r.surfaceState) && MOIST_STATES.has(r.surfaceState);
  const film = num(r.waterFilm) && r.waterFilm > 0;
  const precip = num(r.precipitationRate) && r.precipitationRate > 0;
  const moisture = moistState || film || precip;
  if (moistState) reasons.push(`surface ${SURFACE_STATES[r.surfaceState!]}`);
  if (film) reasons.push(`water film ${r.waterFilm} mm`);
  if (precip) reasons.push(`precipitation ${r.precipitationRate} mm/h`);
  if (!num(r.surfaceTemperature)) return { level: 'unknown', marginToFreezing: null, moisture, reasons: ['no surface temperature'] };
  const freezing = num(r.freezingPoint) ? r.freezingPoint : 0;
  const margin = round(r.surfaceTemperature - freezing);
  const period = num(r.periodSeconds) ? r.periodSeconds : 360;
  if (num(r.ageSeconds) && r.ageSeconds > o.stalePeriods * period) {
    return { level: 'unknown', marginToFreezing: margin, moisture, reasons: [`last surface temperature is ${Math.round(r.ageSeconds / 60)} min old`] };
  }
  if (margin <= 0 && moisture) return { level: 'ice', marginToFreezing: margin, moisture, reasons: [`surface ${r.surfaceTemperature} °C at or below freezing point ${freezing} °C`, ...reasons] };
  if (r.surfaceTemperature <= 0 && num(r.dewPoint) && r.surfaceTemperature <= r.dewPoint) {
    return { level: 'frost', marginToFreezing: margin, moisture, reasons: [`surface ${r.surfaceTemperature} °C at or below 0 °C and dew point ${r.dewPoint} °C`, ...reasons] };
  }
  const falling = num(r.trendPerHour) && r.trendPerHour <= o.fallingThresholdPerHour;
  if (moisture && margin <= o.preAlertMarginC && falling) {
    return { level: 'pre-alert', marginToFreezing: margin, moisture, reasons: [`${margin} °C above freezing and falling ${r.trendPerHour} °C/h`, ...reasons] };
  }
  return { level: 'none', marginToFreezing: margin, moisture, reasons };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
