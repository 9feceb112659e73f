/**
 * The evaluator's history per series: exact for stations that report at real rates, bounded
 * in count for a series that reports faster than HISTORY_POINTS readings per window, with
 * window means still counting every reading.
 */
import t from 'tap';
import { HISTORY_POINTS, SeriesMemory, type Point } from './series-memory.ts';

const HOUR = 3_600_000;
const mean = (points: Point[]) => points.reduce((a, p) => a + (p.sum ?? p.v), 0) / points.reduce((a, p) => a + (p.n ?? 1), 0);
const readings = (points: Point[]) => points.reduce((a, p) => a + (p.n ?? 1), 0);

t.test('a station reading every minute keeps every reading of its window, exactly', async (t) => {
  const m = new SeriesMemory(() => HOUR);
  for (let k = 0; k <= 120; k++) m.add('s', 'air_temperature', '', k * 60_000, k);
  const now = 120 * 60_000;
  const window = m.range('s', 'air_temperature', '', now - HOUR, now);
  t.equal(window.length, 61, 'readings from minute 60 to 120');
  t.ok(
    window.every((p) => p.n === undefined),
    'no bucket',
  );
  t.equal(mean(window), 90);
  t.same(m.at('s', 'air_temperature', '', now - HOUR + 30_000), { t: 60 * 60_000, v: 60 }, 'the last reading at or before a time');
  m.add('s', 'air_temperature', '', 100 * 60_000, 1000);
  t.equal(m.range('s', 'air_temperature', '', 100 * 60_000, 100 * 60_000)[0]!.v, 1000, 'a reading received again replaces its copy');
});

t.test('a series reading every 50 ms: bounded history, every reading still counted', async (t) => {
  const m = new SeriesMemory(() => HOUR);
  const step = 50;
  const last = 2 * HOUR;
  // A ramp: the mean over any window is the value at its middle.
  for (let ts = 0; ts <= last; ts += step) m.add('fast', 'air_temperature', '', ts, ts / 1000);
  const all = m.range('fast', 'air_temperature', '', 0, last);
  t.ok(all.length <= 2 * HISTORY_POINTS + 1, `${all.length} entries kept for 144,000 readings`);
  const window = m.range('fast', 'air_temperature', '', last - HOUR, last);
  const bucketMs = HOUR / HISTORY_POINTS;
  // The bucket straddling the window start may be counted whole: an error of one bucket at most.
  t.ok(Math.abs(readings(window) - HOUR / step) <= bucketMs / step + 1, `${readings(window)} readings counted in the window`);
  const exact = (last - HOUR / 2) / 1000;
  t.ok(Math.abs(mean(window) - exact) <= bucketMs / 1000, `mean ${mean(window)} against ${exact}`);
  const start = m.at('fast', 'air_temperature', '', last - HOUR)!;
  t.ok(start.t <= last - HOUR && last - HOUR - start.t <= 2 * bucketMs, 'the rate start is a real reading within two buckets of the window start');
  t.equal(start.v, start.t / 1000, 'with its own value');
  t.same(m.latestOf('fast', 'air_temperature', ''), { t: last, v: last / 1000 }, 'the latest reading is exact');
});
