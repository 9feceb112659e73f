/** Pure helpers of the time-series layer: bucket specs, zone offsets, gap filling. */
import t from 'tap';
import { estimateBuckets, parseBucket, tzOffsetMinutes, wholeHourZone } from '../../services/timeseries/buckets.ts';
import { fillGaps, type Point } from '../../services/timeseries/fill.ts';
import { chooseSource } from '../../services/timeseries/series.ts';

t.test('bucket specs', async (t) => {
  t.same(parseBucket('6m'), { kind: 'fixed', text: '6m', seconds: 360 });
  t.same(parseBucket('1h'), { kind: 'fixed', text: '1h', seconds: 3600 });
  t.same(parseBucket('1d'), { kind: 'calendar', text: '1d', unit: 'day' });
  t.same(parseBucket('1w'), { kind: 'calendar', text: '1w', unit: 'week' });
  t.same(parseBucket('1M'), { kind: 'calendar', text: '1M', unit: 'month' });
  for (const bad of ['30s', '0m', '2M', '7d', 'h', '1y', '200h']) t.throws(() => parseBucket(bad), { code: 'VIGIE_ERR_VALIDATION' }, bad);
  t.equal(estimateBuckets(parseBucket('1h'), new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z')), 25);
});

t.test('zone offsets and whole-hour zones', async (t) => {
  t.equal(tzOffsetMinutes('Europe/Paris', new Date('2026-01-15T12:00:00Z')), 60);
  t.equal(tzOffsetMinutes('Europe/Paris', new Date('2026-07-15T12:00:00Z')), 120);
  t.equal(tzOffsetMinutes('Asia/Kolkata', new Date('2026-07-15T12:00:00Z')), 330);
  t.ok(wholeHourZone('America/New_York', new Date('2026-01-01T00:00:00Z'), new Date('2026-12-31T00:00:00Z')));
  t.notOk(wholeHourZone('Asia/Kolkata', new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z')));
});

t.test('source choice', async (t) => {
  const base = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-02-01T00:00:00Z'), source: 'auto' as const };
  t.equal(chooseSource({ ...base, bucket: parseBucket('1d'), aggregates: ['avg'], tz: 'Europe/Paris' }), 'daily');
  t.equal(chooseSource({ ...base, bucket: parseBucket('1d'), aggregates: ['avg'], tz: 'UTC' }), 'hourly');
  t.equal(chooseSource({ ...base, bucket: parseBucket('1d'), aggregates: ['avg'], tz: 'Asia/Kolkata' }), 'raw');
  t.equal(chooseSource({ ...base, bucket: parseBucket('3h'), aggregates: ['max'], tz: 'Europe/Paris' }), 'hourly');
  t.equal(chooseSource({ ...base, bucket: parseBucket('15m'), aggregates: ['max'], tz: 'Europe/Paris' }), 'raw');
  t.equal(chooseSource({ ...base, bucket: parseBucket('1d'), aggregates: ['avg', 'p85'], tz: 'Europe/Paris' }), 'raw');
});

t.test('gap filling never invents counts and never extrapolates', async (t) => {
  const pts: Point[] = [
    { time: '2026-01-01T00:00:00Z', __n: 0, avg: null, count: 0 },
    { time: '2026-01-01T01:00:00Z', __n: 2, avg: 10, count: 2 },
    { time: '2026-01-01T02:00:00Z', __n: 0, avg: null, count: 0 },
    { time: '2026-01-01T04:00:00Z', __n: 1, avg: 40, count: 1 },
    { time: '2026-01-01T05:00:00Z', __n: 0, avg: null, count: 0 },
  ];
  t.same(fillGaps(pts, ['avg', 'count'], 'linear').map((p) => p.avg), [null, 10, 20, 40, null], 'uneven spacing interpolated in time');
  t.same(fillGaps(pts, ['avg', 'count'], 'previous').map((p) => p.avg), [null, 10, 10, 40, 40]);
  t.same(fillGaps(pts, ['avg', 'count'], 'linear').map((p) => p.count), [0, 2, 0, 1, 0]);
  t.same(fillGaps(pts, ['avg'], 'none').map((p) => p.time), ['2026-01-01T01:00:00Z', '2026-01-01T04:00:00Z']);
});
