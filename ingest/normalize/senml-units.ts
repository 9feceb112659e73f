/**
 * SenML unit names and what they are in Vigie's unit table (units.ts). The names are those of
 * the IANA "SenML Units" registry as RFC 8428 §12.1 (Table 6) and RFC 8798 §2 (Table 1) fill
 * it, and of the "Secondary Units" registry of RFC 8798 §3 (Table 2), whose entries are a
 * linear map onto a primary unit: primary = value * scale + offset.
 *
 * Traps the registry sets on purpose: `%` is NOT a percentage but the ratio `/` (RFC 8428
 * §12.1 Note 2); a percentage is `/100` (RFC 8798 §3 Note 1). `Cel` is the degree Celsius;
 * `C` is the coulomb and `F` the farad. Unit names are case-sensitive (RFC 8428 §12.1 rule 9).
 */

interface Primary {
  /** The registry's description. */
  description: string;
  /** The same unit in units.ts, when Vigie measures anything in it. */
  vigie?: string;
}

interface Secondary extends Primary {
  of: string;
  scale: number;
  offset: number;
}

/** RFC 8428 §12.1 Table 6, then RFC 8798 §2 Table 1. */
const PRIMARY: Record<string, Primary> = {
  m: { description: 'meter', vigie: 'm' },
  kg: { description: 'kilogram' },
  g: { description: 'gram' },
  s: { description: 'second' },
  A: { description: 'ampere' },
  K: { description: 'kelvin', vigie: 'K' },
  cd: { description: 'candela' },
  mol: { description: 'mole' },
  Hz: { description: 'hertz' },
  rad: { description: 'radian', vigie: 'rad' },
  sr: { description: 'steradian' },
  N: { description: 'newton' },
  Pa: { description: 'pascal', vigie: 'Pa' },
  J: { description: 'joule', vigie: 'J' },
  W: { description: 'watt', vigie: 'W' },
  C: { description: 'coulomb' },
  V: { description: 'volt' },
  F: { description: 'farad' },
  Ohm: { description: 'ohm' },
  S: { description: 'siemens' },
  Wb: { description: 'weber' },
  T: { description: 'tesla' },
  H: { description: 'henry' },
  Cel: { description: 'degrees Celsius', vigie: '°C' },
  lm: { description: 'lumen' },
  lx: { description: 'lux', vigie: 'lx' },
  Bq: { description: 'becquerel' },
  Gy: { description: 'gray' },
  Sv: { description: 'sievert' },
  kat: { description: 'katal' },
  m2: { description: 'square meter (area)' },
  m3: { description: 'cubic meter (volume)', vigie: 'm3' },
  l: { description: 'liter (volume)', vigie: 'l' },
  'm/s': { description: 'meter per second (velocity)', vigie: 'm/s' },
  'm/s2': { description: 'meter per square second (acceleration)' },
  'm3/s': { description: 'cubic meter per second (flow rate)' },
  'l/s': { description: 'liter per second (flow rate)' },
  'W/m2': { description: 'watt per square meter (irradiance)' },
  'cd/m2': { description: 'candela per square meter (luminance)' },
  bit: { description: 'bit (information content)' },
  'bit/s': { description: 'bit per second (data rate)' },
  lat: { description: 'degrees latitude' },
  lon: { description: 'degrees longitude' },
  pH: { description: 'pH value (acidity)' },
  dB: { description: 'decibel', vigie: 'dB' },
  dBW: { description: 'decibel relative to 1 W (power level)', vigie: 'dBW' },
  Bspl: { description: 'bel (sound pressure level)' },
  count: { description: '1 (counter value)', vigie: 'count' },
  '/': { description: '1 (ratio, e.g., value of a switch)', vigie: '1' },
  '%': { description: '1 (ratio, e.g., value of a switch; NOT a percentage, RFC 8428 §12.1 Note 2)', vigie: '1' },
  '%RH': { description: 'percentage (relative humidity)', vigie: '%' },
  '%EL': { description: 'percentage (remaining battery energy level)', vigie: '%' },
  EL: { description: 'seconds (remaining battery energy level)' },
  '1/s': { description: '1 per second (event rate)' },
  '1/min': { description: '1 per minute (event rate)' },
  'beat/min': { description: '1 per minute (heart rate)' },
  beats: { description: '1 (cumulative number of heart beats)' },
  'S/m': { description: 'siemens per meter (conductivity)' },
  B: { description: 'byte (information content)' },
  VA: { description: 'volt-ampere (apparent power)' },
  VAs: { description: 'volt-ampere second (apparent energy)' },
  var: { description: 'volt-ampere reactive (reactive power)' },
  vars: { description: 'volt-ampere reactive second (reactive energy)' },
  'J/m': { description: 'joule per meter (energy per distance)' },
  'kg/m3': { description: 'kilogram per cubic meter (mass density)' },
  deg: { description: 'degree (angle)', vigie: 'deg' },
};

const sec = (description: string, of: string, scale: number, offset = 0, vigie?: string): Secondary => ({ description, of, scale, offset, vigie });

/** RFC 8798 §3 Table 2. */
const SECONDARY: Record<string, Secondary> = {
  ms: sec('millisecond', 's', 1 / 1000),
  min: sec('minute', 's', 60),
  h: sec('hour', 's', 3600),
  MHz: sec('megahertz', 'Hz', 1e6),
  kW: sec('kilowatt', 'W', 1000, 0, 'kW'),
  kVA: sec('kilovolt-ampere', 'VA', 1000),
  kvar: sec('kilovar', 'var', 1000),
  Ah: sec('ampere-hour', 'C', 3600),
  Wh: sec('watt-hour', 'J', 3600, 0, 'Wh'),
  kWh: sec('kilowatt-hour', 'J', 3.6e6, 0, 'kWh'),
  varh: sec('var-hour', 'vars', 3600),
  kvarh: sec('kilovar-hour', 'vars', 3.6e6),
  kVAh: sec('kilovolt-ampere-hour', 'VAs', 3.6e6),
  'Wh/km': sec('watt-hour per kilometer', 'J/m', 3.6),
  KiB: sec('kibibyte', 'B', 1024),
  GB: sec('gigabyte', 'B', 1e9),
  'Mbit/s': sec('megabit per second', 'bit/s', 1e6),
  'B/s': sec('byte per second', 'bit/s', 8),
  'MB/s': sec('megabyte per second', 'bit/s', 8e6),
  mV: sec('millivolt', 'V', 1 / 1000),
  mA: sec('milliampere', 'A', 1 / 1000),
  dBm: sec('decibel (milliwatt)', 'dBW', 1, -30, 'dBm'),
  'ug/m3': sec('microgram per cubic meter', 'kg/m3', 1e-9),
  'mm/h': sec('millimeter per hour', 'm/s', 1 / 3.6e6, 0, 'mm/h'),
  'm/h': sec('meter per hour', 'm/s', 1 / 3600),
  ppm: sec('parts per million', '/', 1e-6, 0, 'ppm'),
  '/100': sec('percent', '/', 1 / 100, 0, '%'),
  '/1000': sec('permille', '/', 1 / 1000),
  hPa: sec('hectopascal', 'Pa', 100, 0, 'hPa'),
  mm: sec('millimeter', 'm', 1 / 1000, 0, 'mm'),
  cm: sec('centimeter', 'm', 1 / 100, 0, 'cm'),
  km: sec('kilometer', 'm', 1000, 0, 'km'),
  'km/h': sec('kilometer per hour', 'm/s', 1 / 3.6, 0, 'km/h'),
};

/**
 * The integral of a primary unit over seconds, for a SenML sum: "in the unit specified in the
 * Unit value multiplied by seconds" (RFC 8428 §4.2), with the catalogue metric that holds it.
 */
const INTEGRAL: Record<string, { vigie: string; metric: string }> = {
  W: { vigie: 'J', metric: 'energy' },
  'm3/s': { vigie: 'm3', metric: 'water_volume' },
  'l/s': { vigie: 'l', metric: 'water_volume' },
};

/** Units whose registry entry names the quantity itself, so they designate a catalogue metric. */
const QUANTITY: Record<string, string> = { '%RH': 'relative_humidity', '%EL': 'battery' };

export function isSenmlUnit(unit: string): boolean {
  return Object.prototype.hasOwnProperty.call(PRIMARY, unit) || Object.prototype.hasOwnProperty.call(SECONDARY, unit);
}

export function isSecondaryUnit(unit: string): boolean {
  return Object.prototype.hasOwnProperty.call(SECONDARY, unit);
}

/** The catalogue metric a unit designates by its registry definition (`%RH`, `%EL`), if any. */
export function quantityOfUnit(unit: string | undefined): string | undefined {
  return unit !== undefined && Object.prototype.hasOwnProperty.call(QUANTITY, unit) ? QUANTITY[unit] : undefined;
}

export type SenmlUnitResult = { ok: true; value: number; unit: string; scaled: boolean } | { ok: false; reason: string };

function describeUnit(unit: string): string {
  const p = PRIMARY[unit] ?? SECONDARY[unit];
  return p ? `${unit} (${p.description})` : JSON.stringify(unit.slice(0, 32));
}

/**
 * A value in a SenML unit as a value in a units.ts unit. `secondaryAllowed`: whether the pack's
 * version includes the Secondary Units feature (RFC 9100 §4) or a profile vouches for the unit.
 */
export function fromSenmlUnit(value: number, unit: string, secondaryAllowed: boolean): SenmlUnitResult {
  const primary = Object.prototype.hasOwnProperty.call(PRIMARY, unit) ? PRIMARY[unit] : undefined;
  const secondary = Object.prototype.hasOwnProperty.call(SECONDARY, unit) ? SECONDARY[unit] : undefined;
  if (!primary && !secondary) return { ok: false, reason: `unit ${describeUnit(unit)} is not in the SenML units registry (RFC 8428 §12.1, RFC 8798)` };
  if (secondary && !secondaryAllowed) {
    return {
      ok: false,
      reason: `unit ${describeUnit(unit)} is a secondary unit (RFC 8798 §3), which a version 10 pack may not use; the pack must declare the Secondary Units feature (bver 26, RFC 9100 §4)`,
    };
  }
  const def = primary ?? secondary!;
  if (def.vigie) return { ok: true, value, unit: def.vigie, scaled: false };
  if (secondary) {
    const base = PRIMARY[secondary.of]!;
    if (base.vigie) return { ok: true, value: value * secondary.scale + secondary.offset, unit: base.vigie, scaled: true };
  }
  // The registry's C and F are easily mistaken for temperatures (RFC 8428 §12.1 rule 6).
  const hint = unit === 'C' || unit === 'F' ? ' (degrees Celsius is Cel; the registry has no Fahrenheit)' : '';
  return { ok: false, reason: `unit ${describeUnit(unit)}: no catalogue metric is measured in it${hint}` };
}

export type SenmlSumResult = { ok: true; value: number; unit: string; metric: string } | { ok: false; reason: string };

/** A SenML sum in `unit`·s (RFC 8428 §4.2) as a catalogue metric and a units.ts unit. */
export function sumFromSenmlUnit(sum: number, unit: string, secondaryAllowed: boolean): SenmlSumResult {
  const secondary = Object.prototype.hasOwnProperty.call(SECONDARY, unit) ? SECONDARY[unit] : undefined;
  if (!isSenmlUnit(unit)) return { ok: false, reason: `unit ${describeUnit(unit)} is not in the SenML units registry (RFC 8428 §12.1, RFC 8798)` };
  if (secondary && !secondaryAllowed) return fromSenmlUnit(sum, unit, false) as SenmlSumResult;
  const primary = secondary ? secondary.of : unit;
  const integral = Object.prototype.hasOwnProperty.call(INTEGRAL, primary) ? INTEGRAL[primary] : undefined;
  if (!integral) return { ok: false, reason: `a sum is in ${describeUnit(unit)} times seconds (RFC 8428 §4.2), which no catalogue metric holds` };
  // An offset unit has no meaningful integral; none of the integrable units has one.
  return { ok: true, value: secondary ? sum * secondary.scale : sum, unit: integral.vigie, metric: integral.metric };
}
