/** The evaluator plays a step's observations period by period (engine.ts `layers`). */
import t from 'tap';
import type { Observation } from '../../schemas/index.ts';
import { layers } from './engine.ts';

const o = (deviceId: string, metric: string, t: number, value = 1): Observation => ({ deviceId, metric: metric as Observation['metric'], channel: '', time: new Date(t), receivedAt: new Date(t), value, quality: 0 });

t.test('two periods of one series never share a layer; layers are in time order', async (t) => {
  const out = layers([o('a', 'co2', 2000, 2), o('b', 'co2', 1000), o('a', 'co2', 1000, 1), o('a', 'battery', 2000), o('a', 'co2', 3000, 3)]);
  t.same(
    out.map((l) => l.map((x) => `${x.deviceId}/${x.metric}@${x.time.getTime()}`)),
    [['b/co2@1000', 'a/co2@1000'], ['a/co2@2000', 'a/battery@2000'], ['a/co2@3000']],
  );
});

t.test('one period of many series stays one layer', async (t) => {
  t.equal(layers([o('a', 'co2', 1), o('b', 'co2', 1), o('a', 'co2', 1)]).length, 1, 'a repeated identical key (redelivery) does not split');
});
