import t from 'tap';
import { qualityFlags } from '../../schemas/index.ts';
import { normalizeReading } from './normalize.ts';

const policy = { maxFutureMs: 300_000, maxAgeMs: 30 * 86400_000 };
const receivedAt = new Date('2026-01-15T06:30:00Z');
const reading = (over: Record<string, unknown>) => ({ deviceId: 'd1', metric: 'surface_temperature', channel: '', time: new Date('2026-01-15T06:29:00Z'), value: -2.5, field: 'metrics.surface_temperature', ...over });

t.test('a good reading becomes a canonical observation', async (t) => {
  const r = normalizeReading(reading({}), receivedAt, policy);
  t.ok(r.ok);
  if (r.ok) {
    t.same(r.observation, { deviceId: 'd1', metric: 'surface_temperature', channel: '', time: new Date('2026-01-15T06:29:00Z'), receivedAt, value: -2.5, quality: 0 });
  }
});

t.test('missing time uses the receive time, flagged', async (t) => {
  const r = normalizeReading(reading({ time: undefined }), receivedAt, policy);
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.observation.time, receivedAt);
    t.same(qualityFlags(r.observation.quality), ['time_from_receipt']);
  }
});

const rejects: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['unknown metric', { metric: 'temp' }, 'unknown_metric', /unknown metric "temp"/],
  ['string value', { value: '12' }, 'invalid_value', /expected a finite number in °C, got the string "12"/],
  ['NaN', { value: Number.NaN }, 'invalid_value', /got number NaN/],
  ['Infinity', { value: Number.POSITIVE_INFINITY }, 'invalid_value', /Infinity/],
  ['null', { value: null }, 'invalid_value', /got null/],
  ['NTCIP sentinel 1001', { value: 1001 }, 'out_of_range', /1001 °C is outside the physical range -60\.\.85/],
  ['humidity 101 sentinel', { metric: 'relative_humidity', value: 101 }, 'out_of_range', /outside/],
  ['fractional state code', { metric: 'surface_state', value: 3.5 }, 'invalid_value', /whole numbers/],
  ['future', { time: new Date('2026-01-15T07:30:00Z') }, 'timestamp_in_future', /3600 s ahead/],
  ['too old', { time: new Date('2025-01-15T07:30:00Z') }, 'timestamp_too_old', /older than the accepted 30 days/],
  ['bad channel', { channel: 'lane 1' }, 'invalid_channel', /channel "lane 1"/],
  ['bad device id', { deviceId: 'a/b' }, 'invalid_device_id', /device id "a\/b"/],
];
for (const [name, over, code, reason] of rejects) {
  t.test(`rejects ${name}`, async (t) => {
    const r = normalizeReading(reading(over), receivedAt, policy);
    t.notOk(r.ok);
    if (!r.ok) {
      t.equal(r.reject.code, code);
      t.match(r.reject.reason, reason);
      t.equal(r.reject.field, 'metrics.surface_temperature', 'the failing field is named');
    }
  });
}
