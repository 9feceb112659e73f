/**
 * UN/CEFACT Recommendation 20 ("Codes for Units of Measure Used in International Trade",
 * Annex III, common codes) as the unit spellings `units.ts` converts. FIWARE NGSI carries them
 * as `unitCode` (NGSI-LD: a member of the Property; NGSI-v2: attribute metadata
 * `unitCode`), as schema.org/unitCode prescribes. Only codes of quantities some catalogue
 * metric holds are listed: any other code is reported as unsupported, never guessed.
 * Note: lux is `LUX`; `LX` is no Recommendation 20 code.
 */
const CODES: Record<string, string> = {
  // Temperature.
  CEL: '°C', // degree Celsius
  FAH: '°F', // degree Fahrenheit
  KEL: 'K', // kelvin
  // Ratios.
  P1: '%', // percent
  C62: '1', // one
  '59': 'ppm', // part per million
  '61': 'ppb', // part per billion (US)
  // Pressure.
  PAL: 'Pa', // pascal
  A97: 'hPa', // hectopascal
  KPA: 'kPa', // kilopascal
  MBR: 'mbar', // millibar
  BAR: 'bar', // bar [unit of pressure]
  // Speed.
  MTS: 'm/s', // metre per second
  KMH: 'km/h', // kilometre per hour
  KNT: 'kn', // knot
  HM: 'mph', // mile per hour (statute mile)
  // Length.
  '4H': 'um', // micrometre (micron)
  MMT: 'mm', // millimetre
  CMT: 'cm', // centimetre
  DMT: 'dm', // decimetre
  MTR: 'm', // metre
  KMT: 'km', // kilometre
  // Rate of precipitation.
  H67: 'mm/h', // millimetre per hour
  // Angle.
  DD: 'deg', // degree [unit of angle]
  // Light, signal.
  LUX: 'lx', // lux
  '2N': 'dB', // decibel
  // Energy, power, volume.
  WHR: 'Wh', // watt hour
  KWH: 'kWh', // kilowatt hour
  MWH: 'MWh', // megawatt hour (1000 kW.h)
  WTT: 'W', // watt
  KWT: 'kW', // kilowatt
  MAW: 'MW', // megawatt
  MTQ: 'm3', // cubic metre
  LTR: 'l', // litre
  DMQ: 'dm3', // cubic decimetre
};

/** The `units.ts` spelling of a Recommendation 20 common code, or undefined when Vigie has none. */
export function unitOfUnCefactCode(code: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(CODES, code) ? CODES[code] : undefined;
}

export const UN_CEFACT_CODES: readonly string[] = Object.keys(CODES);
