import t from 'tap';
import { routeFor, topicMatches } from './topic-routes.ts';

t.test('MQTT wildcard matching (MQTT 3.1.1 §4.7)', async (t) => {
  t.ok(topicMatches('vigie/+/telemetry', 'vigie/abc/telemetry'));
  t.notOk(topicMatches('vigie/+/telemetry', 'vigie/a/b/telemetry'));
  t.notOk(topicMatches('vigie/+/telemetry', 'vigie/abc'));
  t.ok(topicMatches('a/#', 'a/b/c'));
  t.ok(topicMatches('a/#', 'a'), '# matches the parent level too');
  t.notOk(topicMatches('a/b', 'a/b/c'));
  t.ok(topicMatches('+/+', 'x/y'));
});

t.test('first matching route wins', async (t) => {
  const routes = [
    { filter: 'vigie/special/telemetry', decoder: 'a' },
    { filter: 'vigie/+/telemetry', decoder: 'b' },
  ];
  t.equal(routeFor(routes, 'vigie/special/telemetry')?.decoder, 'a');
  t.equal(routeFor(routes, 'vigie/other/telemetry')?.decoder, 'b');
  t.equal(routeFor(routes, 'elsewhere'), undefined);
});
