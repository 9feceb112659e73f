/** V85 percentiles (services/timeseries/v85.ts) against hand computations. */
import t from 'tap';
import { v85FromClasses, v85FromSpeeds } from '../../services/timeseries/v85.ts';

t.test('from individual speeds: smallest speed with at least 85 % at or below it', async (t) => {
  t.equal(v85FromSpeeds([]), null);
  t.equal(v85FromSpeeds([90]), 90);
  // 20 speeds 61..80: rank ceil(0.85 x 20) = 17 exactly, the 17th is 77 (not 78: no float drift).
  t.equal(v85FromSpeeds(Array.from({ length: 20 }, (_, i) => 80 - i)), 77);
  // 10 speeds: rank ceil(8.5) = 9.
  t.equal(v85FromSpeeds([72, 85, 91, 78, 88, 95, 80, 83, 99, 87]), 95);
  // 7 speeds: rank ceil(5.95) = 6.
  t.equal(v85FromSpeeds([50, 60, 70, 80, 90, 100, 110]), 100);
});

t.test('from speed classes: linear interpolation inside the class', async (t) => {
  t.equal(v85FromClasses([]), null);
  t.equal(v85FromClasses([{ from: 0, to: 50, count: 0 }]), null);
  // 100 vehicles: [70,90) 40, [90,110) 50, [110,+inf) 10. 85th vehicle: 40 below, 45 into the
  // class of 50: 90 + 45 / 50 x 20 = 108.
  t.same(v85FromClasses([{ from: 110, to: null, count: 10 }, { from: 70, to: 90, count: 40 }, { from: 90, to: 110, count: 50 }]), { kmh: 108 });
  // 85 % exactly at a class boundary: 17 of 20 in [0, 80): the upper bound, 80.
  t.same(v85FromClasses([{ from: 0, to: 80, count: 17 }, { from: 80, to: 100, count: 3 }]), { kmh: 80 });
  // In the open top class: only a lower bound.
  t.same(v85FromClasses([{ from: 0, to: 130, count: 1 }, { from: 130, to: null, count: 9 }]), { kmh: null, atLeastKmh: 130 });
});
