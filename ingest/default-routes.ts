/**
 * The standard topics of every wire format, so a device works without configuration.
 * First match wins; VIGIE_ROUTES entries are tried before these.
 */
import { NATIVE_TOPIC_PATTERN } from '../schemas/index.ts';
import { CHIRPSTACK_V4_TOPICS } from './decoders/chirpstack-v4/index.ts';
import { NGSI_HTTP_TOPIC, NGSI_TOPIC } from './decoders/ngsi/index.ts';
import { SENML_TOPIC } from './decoders/senml/index.ts';
import { SPARKPLUG_TOPICS } from './decoders/sparkplug-b/index.ts';
import { TTN_V3_TOPIC } from './decoders/ttn-v3/index.ts';
import type { TopicRoute } from './topic-routes.ts';

export const DEFAULT_ROUTES: TopicRoute[] = [
  { filter: NATIVE_TOPIC_PATTERN, decoder: 'native' },
  { filter: SENML_TOPIC, decoder: 'senml' },
  { filter: NGSI_TOPIC, decoder: 'ngsi' },
  { filter: NGSI_HTTP_TOPIC, decoder: 'ngsi', source: 'http' },
  { filter: TTN_V3_TOPIC, decoder: 'ttn-v3' },
  ...CHIRPSTACK_V4_TOPICS.map((filter) => ({ filter, decoder: 'chirpstack-v4' })),
  ...SPARKPLUG_TOPICS.map((filter) => ({ filter, decoder: 'sparkplug-b' })),
];

/**
 * `VIGIE_ROUTES`: comma- or newline-separated `filter=decoder` pairs, e.g.
 * `site1/lora/+/up=ttn-v3, gw/#=sparkplug-b`.
 */
export function parseRoutes(text: string): TopicRoute[] | string {
  const routes: TopicRoute[] = [];
  for (const part of text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    const eq = part.lastIndexOf('=');
    if (eq <= 0 || eq === part.length - 1) return `"${part}" is not filter=decoder`;
    const filter = part.slice(0, eq).trim();
    const hashAt = filter.indexOf('#');
    if (hashAt !== -1 && hashAt !== filter.length - 1) return `"${filter}": # must be the last level (MQTT 3.1.1 §4.7.1.2)`;
    routes.push({ filter, decoder: part.slice(eq + 1).trim() });
  }
  return routes;
}
