import t from 'tap';
import { DEFAULT_PROFILE, type DeviceProfile } from '../../schemas/index.ts';
import { mapKeys, type ProfileChoice } from './map-keys.ts';

const defaults: DeviceProfile = { name: DEFAULT_PROFILE, keys: { motion: { metric: 'occupancy_state', binary: true } }, ignore: [] };
const indoor: DeviceProfile = { name: 'indoor', keys: { occupancy: { metric: 'occupancy_state', binary: true } }, ignore: [] };
const traffic: DeviceProfile = { name: 'loop', keys: { occupancy: { metric: 'occupancy', unit: '%' } }, ignore: [] };
const choice = (...profiles: DeviceProfile[]): ProfileChoice => ({ profiles, names: profiles.map((p) => p.name) });
const entry = (value: unknown) => [{ key: 'occupancy', value, field: 'decoded_payload.occupancy' }];

t.test('occupancy is never mapped to one of its meanings without a profile saying which', async (t) => {
  const r = mapKeys('d1', entry(12), choice(defaults));
  t.same(r.readings, []);
  t.equal(r.rejects[0]?.code, 'unmapped_key');
  t.match(r.rejects[0]?.reason, /can mean loop occupancy in % \(metric occupancy\) or room presence \(metric occupancy_state\)/);
  t.equal(mapKeys('d1', [{ key: 'Occupancy', value: 1, field: 'x' }], choice(defaults)).rejects[0]?.code, 'unmapped_key', 'case-insensitively too');
});

t.test("a device's profile says which", async (t) => {
  t.same(mapKeys('d1', entry(12), choice(traffic, defaults)).readings.map((r) => [r.metric, r.value]), [['occupancy', 12]]);
  t.same(mapKeys('d1', entry(3), choice(indoor, defaults)).readings.map((r) => [r.metric, r.value]), [['occupancy_state', 1]]);
});

t.test('a boolean can only be presence', async (t) => {
  const r = mapKeys('d1', entry(true), choice(defaults));
  t.same(r.readings.map((x) => [x.metric, x.value]), [['occupancy_state', 1]]);
  t.same(r.rejects, []);
});
