import t from 'tap';
import { convertUnit, isKnownUnit } from './units.ts';
import { UN_CEFACT_CODES, unitOfUnCefactCode } from './un-cefact-units.ts';

t.test('every listed UN/CEFACT code names a unit the converter knows', async (t) => {
  for (const code of UN_CEFACT_CODES) t.ok(isKnownUnit(unitOfUnCefactCode(code)!), `${code} -> ${unitOfUnCefactCode(code)}`);
});

t.test('codes of the NGSI examples convert to the catalogue units (Recommendation 20, Annex III)', async (t) => {
  const cases: Array<[string, number, string, number]> = [
    ['CEL', 20.5, '°C', 20.5],
    ['FAH', 32, '°C', 0],
    ['KEL', 294.65, '°C', 21.5],
    ['P1', 45, '%', 45],
    ['C62', 0.45, '%', 45],
    ['59', 850, 'ppm', 850],
    ['A97', 1013.25, 'hPa', 1013.25],
    ['PAL', 101325, 'hPa', 1013.25],
    ['BAR', 1, 'hPa', 1000],
    ['KMH', 36, 'm/s', 10],
    ['MTS', 10, 'km/h', 36],
    ['KMT', 1.5, 'm', 1500],
    ['MMT', 300, 'm', 0.3],
    ['DD', 225, 'deg', 225],
    ['LUX', 310, 'lx', 310],
  ];
  for (const [code, value, canonical, expected] of cases) {
    const r = convertUnit(value, unitOfUnCefactCode(code), canonical);
    t.same(r.ok && r.value, expected, `${value} ${code} = ${expected} ${canonical}`);
  }
});

t.test('codes outside the table are not guessed', async (t) => {
  // Lux is LUX in Recommendation 20; LX is no code. GQ (microgram per cubic metre) has no catalogue metric.
  for (const code of ['LX', 'GQ', 'cel', '', 'XYZ']) t.equal(unitOfUnCefactCode(code), undefined, code);
});
