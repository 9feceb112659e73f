/**
 * Who may publish and subscribe where, derived from the ingest's topic routes
 * (ingest/default-routes.ts plus VIGIE_ROUTES) and VIGIE_TOPIC_PREFIX, so the ACL follows the
 * routes instead of repeating them. Pure: the embedded broker (services/embedded/broker.ts)
 * and the Mosquitto ACL file generator (services/broker-auth/mosquitto.ts) share it.
 */
import { topicMatches, type TopicRoute } from '../../ingest/topic-routes.ts';
import type { AccountKind, GatewayScopes } from '../../schemas/index.ts';

/** Vigie itself (ingest, alert publisher, Sparkplug rebirth requests), or a stored account. */
export type Account = { kind: 'vigie'; name: string } | { kind: AccountKind; name: string; scopes?: GatewayScopes };

export interface Grants {
  /** MQTT filters (prefix included) the account may publish under. */
  publish: string[];
  /** MQTT filters (prefix included) the account may subscribe to (a subscription must lie inside one). */
  subscribe: string[];
}

export interface AclContext {
  routes: readonly TopicRoute[];
  /** VIGIE_TOPIC_PREFIX. */
  prefix: string;
  /** VIGIE_ALERT_MQTT_TOPIC, without trailing slash. */
  alertRoot: string;
}

/** Sparkplug B topic namespace (Sparkplug 3.0 §4.1.1: `spBv1.0/{group_id}/{message_type}/{edge_node_id}[/{device_id}]`). */
const SPARKPLUG = 'spBv1.0';

const mqttRoutes = (ctx: AclContext) => ctx.routes.filter((r) => r.source !== 'http');
const prefixed = (ctx: AclContext, filters: string[]) => [...new Set(filters.map((f) => `${ctx.prefix}${f}`))];

/** Replaces the `+` at level `index` by a value (levels that are not `+` are kept). */
function pin(filter: string, pins: Record<number, string>): string {
  return filter
    .split('/')
    .map((level, i) => (level === '+' && pins[i] !== undefined ? pins[i] : level))
    .join('/');
}

/** Route filters a device publishes under: those with exactly one single-level wildcard, which is the device id (`vigie/+/telemetry`, `vigie/+/senml`). */
export function deviceFilters(routes: readonly TopicRoute[], deviceId: string): string[] {
  return routes
    .filter((r) => r.source !== 'http' && !r.filter.includes('#') && r.filter.split('/').filter((l) => l === '+').length === 1)
    .map((r) => r.filter.replace('+', deviceId));
}

function levelAfter(filter: string, literal: string): number {
  const levels = filter.split('/');
  const i = levels.indexOf(literal);
  return i >= 0 && levels[i + 1] === '+' ? i + 1 : -1;
}

function gatewayGrants(ctx: AclContext, scopes: GatewayScopes): Grants {
  const publish: string[] = [];
  const subscribe: string[] = [];
  const routes = mqttRoutes(ctx);
  for (const app of scopes.tts) {
    // The Things Stack v3 MQTT topics: v3/{application id}[@{tenant id}]/devices/{device id}/up.
    for (const r of routes.filter((r) => r.decoder === 'ttn-v3')) {
      const at = levelAfter(r.filter, 'v3');
      if (at >= 0) publish.push(pin(r.filter, { [at]: app }));
    }
  }
  for (const app of scopes.chirpstack) {
    // ChirpStack v4 MQTT integration: application/{id}/device/{devEui}/event/{type}. Vigie stores
    // `up` and `status`; the integration also sends join, ack, txack, log, location and
    // integration events on sibling topics (ChirpStack docs, "Event types"): they are the
    // application's own namespace, allowed and left unsubscribed rather than refused.
    for (const r of routes.filter((r) => r.decoder === 'chirpstack-v4')) {
      const at = levelAfter(r.filter, 'application');
      if (at < 0) continue;
      const levels = pin(r.filter, { [at]: app }).split('/');
      if (levels.at(-2) === 'event') levels[levels.length - 1] = '+';
      publish.push(levels.join('/'));
    }
    // Downlinks the integration subscribes to: application/{id}/device/{devEui}/command/down.
    subscribe.push(`application/${app}/device/+/command/+`);
  }
  for (const node of scopes.sparkplug) {
    const [group, edge] = node.split('/') as [string, string];
    for (const r of routes.filter((r) => r.decoder === 'sparkplug-b' && r.filter.startsWith(`${SPARKPLUG}/`))) {
      publish.push(pin(r.filter, { 1: group, 3: edge }));
    }
    // Commands to this node and its devices, and the primary host's STATE (Sparkplug 3.0 §4.1.2, §5.14).
    subscribe.push(`${SPARKPLUG}/${group}/NCMD/${edge}`, `${SPARKPLUG}/${group}/DCMD/${edge}/+`, `${SPARKPLUG}/STATE/+`);
  }
  if (scopes.ngsi) {
    for (const r of routes.filter((r) => r.decoder === 'ngsi' && !r.filter.includes('+') && !r.filter.includes('#'))) publish.push(r.filter);
  }
  return { publish: prefixed(ctx, publish), subscribe: prefixed(ctx, [...publish, ...subscribe]) };
}

export function grantsFor(account: Account, ctx: AclContext): Grants {
  switch (account.kind) {
    case 'vigie':
      return { publish: ['#'], subscribe: ['#'] };
    case 'device': {
      const own = deviceFilters(mqttRoutes(ctx), account.name);
      return { publish: prefixed(ctx, own), subscribe: prefixed(ctx, own) };
    }
    case 'gateway':
      return gatewayGrants(ctx, account.scopes ?? { tts: [], chirpstack: [], sparkplug: [], ngsi: false });
    case 'integration': {
      // A platform feeding Vigie (or an admin/integration API token): every ingest topic; it may
      // read the alert events too.
      const all = mqttRoutes(ctx).map((r) => r.filter);
      return { publish: prefixed(ctx, all), subscribe: prefixed(ctx, [...all, `${ctx.alertRoot}/#`]) };
    }
  }
}

/**
 * Topics only Vigie publishes under, whatever else an account is granted: its alert events
 * (a forged retained `alert.resolved` would otherwise survive restarts) and Sparkplug
 * commands (NCMD/DCMD, Sparkplug 3.0 §4.1.1: sent by the host application, never by a node).
 */
export function vigieOnlyFilters(ctx: AclContext): string[] {
  return prefixed(ctx, [ctx.alertRoot, `${ctx.alertRoot}/#`, `${SPARKPLUG}/+/NCMD/#`, `${SPARKPLUG}/+/DCMD/#`]);
}

export function mayPublish(account: Account, grants: Grants, reserved: readonly string[], topic: string): boolean {
  if (account.kind === 'vigie') return true;
  if (topic.startsWith('$')) return false; // $SYS and other broker topics (MQTT 3.1.1 §4.7.2)
  if (reserved.some((f) => topicMatches(f, topic))) return false;
  return grants.publish.some((f) => topicMatches(f, topic));
}

/** MQTT 5 §4.8.2 shared subscription: `$share/{group}/{filter}` is checked as `{filter}`. */
export function stripShare(filter: string): string {
  const m = /^\$share\/[^/]+\/(.*)$/.exec(filter);
  return m ? m[1]! : filter;
}

/** True when every topic `inner` matches is matched by `outer` (MQTT 3.1.1 §4.7.1 wildcards). */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const i = inner.split('/');
  for (let k = 0; k < o.length; k++) {
    if (o[k] === '#') return true;
    if (k >= i.length) return false;
    if (i[k] === '#') return false;
    if (o[k] === '+') continue;
    if (o[k] !== i[k]) return false;
  }
  return o.length === i.length;
}

export function maySubscribe(account: Account, grants: Grants, filter: string): boolean {
  if (account.kind === 'vigie') return true;
  const f = stripShare(filter);
  if (f.startsWith('$')) return false;
  return grants.subscribe.some((g) => filterCovers(g, f));
}

/** Delivery check (defence in depth: a resumed session's queue, a retained message). */
export function mayReceive(account: Account, grants: Grants, topic: string): boolean {
  if (account.kind === 'vigie') return true;
  return grants.subscribe.some((g) => topicMatches(g, topic));
}
