/** V85 from speed classes (services/timeseries/v85.ts) against hand computations; from individual speeds: test/timeseries/traffic.test.ts. */
import t from 'tap';
import { v85FromClasses } from '../../services/timeseries/v85.ts';

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
