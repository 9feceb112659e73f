/** Unit conversion into the catalogue's canonical units (ingest/normalize/units.ts). */
import t from 'tap';
import { convertUnit } from '../ingest/normalize/units.ts';

const cases: Array<[number, string | undefined, string, number, boolean]> = [
  [21.5, undefined, '°C', 21.5, false],
  [21.5, 'Cel', '°C', 21.5, false],
  [294.65, 'K', '°C', 21.5, true],
  [70.7, 'degF', '°C', 21.5, true],
  [32, '°F', '°C', 0, true],
  [0.93, 'fraction', '%', 93, true],
  [0.62, '/', '%', 62, true],
  [62, '%', '1', 0.62, true],
  [45.2, '%RH', '%', 45.2, false],
  [0.0003, 'm', 'mm', 0.3, true],
  [300, 'um', 'mm', 0.3, true],
  [35000, 'dm', 'm', 3500, true],
  [101325, 'Pa', 'hPa', 1013.25, true],
  [1013.2, 'mbar', 'hPa', 1013.2, false],
  [1234567, 'Wh', 'kWh', 1234.567, true],
  [3.6e6, 'J', 'kWh', 1, true],
  [3400, 'W', 'kW', 3.4, true],
  [345600, 'l', 'm3', 345.6, true],
  [90, 'km/h', 'm/s', 25, true],
  [25, 'm/s', 'km/h', 90, true],
  [0.05, '%', 'ppm', 500, true],
  [-30, 'dBW', 'dBm', 0, true],
  [Math.PI, 'rad', 'deg', 180, true],
];
for (const [value, from, to, expected, converted] of cases) {
  const r = convertUnit(value, from, to);
  t.same(r, { ok: true, value: expected, converted }, `${value} ${from ?? '(canonical)'} -> ${expected} ${to}`);
}
t.match(convertUnit(1, 'furlong', '°C'), { ok: false, reason: /not one Vigie knows/ });
t.match(convertUnit(1, 'kWh', '°C'), { ok: false, reason: /cannot be converted to °C/ });
t.match(convertUnit(1, 'ppm', 'hPa'), { ok: false });
