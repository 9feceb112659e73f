/**
 * Unit conversion into the catalogue's canonical units. Devices send kelvin, Fahrenheit,
 * fractions, metres, pascals, watt-hours; SenML
 * uses its registry names (RFC 8428 §12.1: `Cel`, `%RH`, `Pa`, `W`, `J`, `m3`, `lx`, and the
 * secondary units of RFC 8798: `ppm`, `hPa`, `km/h`, `kWh`). Every unit is a linear map
 * onto its dimension's base unit: base = value * factor + offset.
 */

interface UnitDef {
  dim: string;
  factor: number;
  offset?: number;
}

const U = (dim: string, factor: number, offset = 0): UnitDef => ({ dim, factor, offset });

const UNITS: Record<string, UnitDef> = {
  // Temperature, base kelvin.
  '°C': U('temperature', 1, 273.15),
  Cel: U('temperature', 1, 273.15),
  degC: U('temperature', 1, 273.15),
  C: U('temperature', 1, 273.15),
  K: U('temperature', 1),
  '°F': U('temperature', 5 / 9, 459.67 * (5 / 9)),
  degF: U('temperature', 5 / 9, 459.67 * (5 / 9)),
  F: U('temperature', 5 / 9, 459.67 * (5 / 9)),
  // Dimensionless ratios, base 1. SenML `/` is a ratio (RFC 8428 §12.1), `%EL` remaining energy level.
  '1': U('ratio', 1),
  '/': U('ratio', 1),
  ratio: U('ratio', 1),
  fraction: U('ratio', 1),
  '%': U('ratio', 0.01),
  '%RH': U('ratio', 0.01),
  '%EL': U('ratio', 0.01),
  percent: U('ratio', 0.01),
  ppm: U('ratio', 1e-6),
  ppb: U('ratio', 1e-9),
  // Length, base metre (DATEX water film in metres, visibility raw in decimetres).
  m: U('length', 1),
  dm: U('length', 0.1),
  cm: U('length', 0.01),
  mm: U('length', 0.001),
  um: U('length', 1e-6),
  km: U('length', 1000),
  // Speed, base m/s.
  'm/s': U('speed', 1),
  'km/h': U('speed', 1 / 3.6),
  mph: U('speed', 0.44704),
  kn: U('speed', 1852 / 3600),
  // Pressure, base pascal.
  Pa: U('pressure', 1),
  hPa: U('pressure', 100),
  mbar: U('pressure', 100),
  kPa: U('pressure', 1000),
  bar: U('pressure', 1e5),
  // Energy, base joule.
  J: U('energy', 1),
  Wh: U('energy', 3600),
  kWh: U('energy', 3.6e6),
  MWh: U('energy', 3.6e9),
  // Power, base watt.
  W: U('power', 1),
  kW: U('power', 1000),
  MW: U('power', 1e6),
  // Volume, base cubic metre.
  m3: U('volume', 1),
  l: U('volume', 0.001),
  L: U('volume', 0.001),
  dm3: U('volume', 0.001),
  // Precipitation rate, base mm/h.
  'mm/h': U('rate', 1),
  // Angle, base degree.
  deg: U('angle', 1),
  '°': U('angle', 1),
  rad: U('angle', 180 / Math.PI),
  // Illuminance, signal level and ratio in decibels.
  lx: U('illuminance', 1),
  dBm: U('power-level', 1),
  dBW: U('power-level', 1, 30),
  dB: U('level', 1),
  // Counts and codes.
  veh: U('count', 1),
  count: U('count', 1),
  'veh/h': U('flow', 1),
  '1/h': U('flow', 1),
  code: U('code', 1),
  bool: U('bool', 1),
};

export type ConvertResult = { ok: true; value: number; converted: boolean } | { ok: false; reason: string };

export function isKnownUnit(unit: string): boolean {
  return Object.prototype.hasOwnProperty.call(UNITS, unit);
}

/** Converts `value` from `from` (undefined or '' = already canonical) to `canonical`. */
export function convertUnit(value: number, from: string | undefined, canonical: string): ConvertResult {
  if (from === undefined || from === '' || from === canonical) return { ok: true, value, converted: false };
  const src = UNITS[from];
  const dst = UNITS[canonical];
  if (!src) return { ok: false, reason: `unit ${JSON.stringify(from.slice(0, 32))} is not one Vigie knows (expected ${canonical} or a convertible unit)` };
  if (!dst || src.dim !== dst.dim) return { ok: false, reason: `unit ${from} cannot be converted to ${canonical}` };
  if (src.factor === dst.factor && (src.offset ?? 0) === (dst.offset ?? 0)) return { ok: true, value, converted: false };
  const base = value * src.factor + (src.offset ?? 0);
  const out = (base - (dst.offset ?? 0)) / dst.factor;
  // Round away binary noise (294.65 K must read 21.5 °C, not 21.499999999999996; 32 °F
  // exactly 0 °C, not -5.7e-14).
  const rounded = Number(out.toPrecision(12));
  return { ok: true, value: Math.abs(rounded) < 1e-9 ? 0 : rounded, converted: true };
}
