/**
 * SenML versions (RFC 9100) and units (RFC 8428 §12.1, RFC 8798 §3), value by value: the golden
 * cases show them in packs, this pins the tables' edges.
 */
import t from 'tap';
import { checkVersion } from '../ingest/decoders/senml/version.ts';
import { fromSenmlUnit, quantityOfUnit, sumFromSenmlUnit } from '../ingest/normalize/senml-units.ts';

t.test('versions: 10 and 26 are used, every other feature set is refused', async (t) => {
  t.same(checkVersion(undefined), { ok: true, version: 10, secondaryUnits: false }, 'absent = 10 (RFC 8428 §4.1)');
  t.same(checkVersion(10), { ok: true, version: 10, secondaryUnits: false });
  t.same(checkVersion(26), { ok: true, version: 26, secondaryUnits: true }, '26 = 10 + Secondary Units (RFC 9100 §4)');
  for (const [bver, says] of [
    [42, /feature 5 \(not in the SenML Features registry\)/],
    [5, /features 0 \(Reserved0\) and 2 \(Reserved2\).*1 \(Reserved1\) and 3 \(Reserved3\).*missing/],
    [16, /1 \(Reserved1\) and 3 \(Reserved3\).*missing/],
    [11, /feature 0 \(Reserved0\)/],
    [10 + 2 ** 52, /feature 52/],
    [0, /positive integer/],
    [10.5, /positive integer/],
    [2 ** 53, /positive integer/],
    ['10', /positive integer/],
  ] as const) {
    const r = checkVersion(bver);
    t.equal(r.ok, false, `bver ${String(bver)} refused`);
    if (!r.ok) t.match(r.reason, says);
  }
});

t.test('units: the registry meaning, then the catalogue unit', async (t) => {
  const ok = (value: number, unit: string, secondary: boolean) => {
    const r = fromSenmlUnit(value, unit, secondary);
    return r.ok ? [r.value, r.unit, r.scaled] : r.reason;
  };
  t.same(ok(0.45, '%', false), [0.45, '1', false], '% is the ratio / (RFC 8428 §12.1 Note 2)');
  t.same(ok(45, '/100', true), [45, '%', false], '/100 is percent (RFC 8798 §3 Note 1)');
  t.same(ok(21.5, 'Cel', false), [21.5, '°C', false]);
  t.same(ok(450, '/1000', true), [0.45, '1', true], 'a secondary unit without a catalogue twin goes through its scale');
  t.same(ok(-20, 'dBW', false), [-20, 'dBW', false]);
  t.match(ok(21.5, 'C', false), /coulomb/);
  t.match(ok(70, 'F', false), /farad/);
  t.match(ok(21.5, 'cel', false), /not in the SenML units registry/, 'names are case-sensitive');
  t.match(ok(640, 'ppm', false), /secondary unit .*\(bver 26/, 'secondary units need the feature');
  t.same(ok(640, 'ppm', true), [640, 'ppm', false]);
  t.equal(quantityOfUnit('%RH'), 'relative_humidity');
  t.equal(quantityOfUnit('%EL'), 'battery');
  t.equal(quantityOfUnit('Cel'), undefined, 'Cel does not say which temperature');
});

t.test('sums: unit times seconds', async (t) => {
  t.same(sumFromSenmlUnit(3.6e6, 'W', false), { ok: true, value: 3.6e6, unit: 'J', metric: 'energy' });
  t.same(sumFromSenmlUnit(3600, 'kW', true), { ok: true, value: 3.6e6, unit: 'J', metric: 'energy' });
  t.same(sumFromSenmlUnit(12, 'l/s', false), { ok: true, value: 12, unit: 'l', metric: 'water_volume' });
  const cel = sumFromSenmlUnit(1000, 'Cel', false);
  t.equal(cel.ok, false, 'a temperature sum has no catalogue metric');
  t.equal(sumFromSenmlUnit(1, 'kW', false).ok, false, 'a secondary unit still needs the feature');
});
