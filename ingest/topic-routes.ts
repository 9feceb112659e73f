/**
 * Which decoder handles which topic: MQTT filters (with `+` and `#`, MQTT 3.1.1 §4.7) mapped
 * to decoder names. The first matching route wins, so put specific filters first.
 */
export interface TopicRoute {
  filter: string;
  decoder: string;
  /** `http`: reached through an HTTP intake only (e.g. POST /ngsi/notify), never subscribed on MQTT. */
  source?: 'mqtt' | 'http';
}

export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

export function routeFor(routes: readonly TopicRoute[], topic: string): TopicRoute | undefined {
  return routes.find((r) => topicMatches(r.filter, topic));
}
