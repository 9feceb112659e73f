/**
 * Where notifications may go. A rule is written through the API by an engineer: without a
 * bound, its webhook would make Vigie a request forger (reach the database admin port, a cloud
 * metadata endpoint) or a port scanner (its delivery records tell refused from open ports),
 * and its MQTT topic could land retained messages on telemetry topics that the ingest reads
 * back at every restart.
 *
 * Webhooks: the URL must start with an entry of VIGIE_ALERT_WEBHOOK_ALLOW (or be
 * VIGIE_ALERT_WEBHOOK_URL), and every address its host resolves to must be public, unless the
 * entry names that address itself (an IP literal URL such as http://10.0.0.5:8080/) or a CIDR
 * entry (10.20.0.0/16) lists it. Addresses are checked again when the connection is made
 * (the `lookup` below), so a DNS answer that changes after the check (rebinding) gains nothing.
 * Reserved ranges: RFC 6890 special-purpose registries (loopback, RFC 1918 private, RFC 6598
 * shared, RFC 3927 link-local, RFC 4193 unique local, RFC 4291 link-local and multicast).
 */
import dns from 'node:dns';
import net, { BlockList } from 'node:net';
import { topicMatches, type TopicRoute } from '../../../ingest/topic-routes.ts';

const SPECIAL = new BlockList();
for (const [a, p] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) SPECIAL.addSubnet(a, p, 'ipv4');
for (const [a, p] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) SPECIAL.addSubnet(a, p, 'ipv6');

/** `::ffff:10.0.0.1` is 10.0.0.1 on the wire. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: net.isIPv6(address) ? 'ipv6' : 'ipv4' };
}

export function isSpecialAddress(address: string): boolean {
  const n = normalise(address);
  return SPECIAL.check(n.address, n.family);
}

interface Entry {
  prefix: string;
  /** The host when it is an IP literal: that address is named, so it may be private. */
  literal?: string;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

function hostOf(u: URL): string {
  return u.hostname.replace(/^\[|\]$/g, '');
}

export class OutboundPolicy {
  private readonly entries: Entry[] = [];
  private readonly ranges = new BlockList();
  private readonly problems: string[] = [];

  constructor(allow: string[], alwaysAllowed: string[] = []) {
    for (const raw of [...allow, ...alwaysAllowed]) {
      const cidr = /^([0-9a-f:.]+)\/(\d{1,3})$/i.exec(raw);
      if (cidr && net.isIP(cidr[1]!)) {
        const n = normalise(cidr[1]!);
        this.ranges.addSubnet(n.address, Number(cidr[2]), n.family);
        continue;
      }
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        this.problems.push(`not a URL prefix or CIDR range: ${raw}`);
        continue;
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        this.problems.push(`only http and https URLs: ${raw}`);
        continue;
      }
      // new URL() adds the "/" after a bare host, so https://a.example never matches https://a.example.evil.org.
      const host = hostOf(u);
      this.entries.push({ prefix: u.href, ...(net.isIP(host) ? { literal: normalise(host).address } : {}) });
    }
  }

  /** Entries that could not be read (reported at start). */
  get invalid(): string[] {
    return this.problems;
  }

  private entryFor(url: string): { u: URL; entry: Entry } | Verdict {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return { ok: false, reason: 'not a URL' };
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, reason: 'only http and https webhooks' };
    if (u.username || u.password) return { ok: false, reason: 'credentials in a webhook URL are refused' };
    const entry = this.entries.find((e) => u.href.startsWith(e.prefix));
    if (!entry) return { ok: false, reason: 'URL not in VIGIE_ALERT_WEBHOOK_ALLOW' };
    return { u, entry };
  }

  addressAllowed(address: string, entry?: Entry): boolean {
    const n = normalise(address);
    if (!SPECIAL.check(n.address, n.family)) return true;
    if (entry?.literal === n.address) return true;
    return this.ranges.check(n.address, n.family);
  }

  /** The string check plus every address of the host: for rule validation and before each attempt. */
  async check(url: string): Promise<Verdict> {
    const found = this.entryFor(url);
    if ('ok' in found) return found;
    const host = hostOf(found.u);
    let addresses: string[];
    if (net.isIP(host)) addresses = [host];
    else {
      try {
        addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
      } catch (err) {
        return { ok: false, reason: `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
      }
    }
    const bad = addresses.find((a) => !this.addressAllowed(a, found.entry));
    if (bad !== undefined) return { ok: false, reason: `${host} resolves to a loopback, private or link-local address (${bad}) not listed in VIGIE_ALERT_WEBHOOK_ALLOW` };
    return { ok: true };
  }

  /** A `lookup` for http.request that refuses forbidden addresses at connection time. */
  lookupFor(url: string): net.LookupFunction {
    const found = this.entryFor(url);
    const entry = 'ok' in found ? undefined : found.entry;
    return ((hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '', 0);
        const list = addresses as dns.LookupAddress[];
        const allowed = entry ? list.filter((a) => this.addressAllowed(a.address, entry)) : [];
        if (allowed.length === 0 || allowed.length < list.length) {
          const e = Object.assign(new Error(`${hostname} resolves to an address not allowed by VIGIE_ALERT_WEBHOOK_ALLOW`), { code: 'VIGIE_ERR_WEBHOOK_NOT_ALLOWED' });
          return callback(e, '', 0);
        }
        if (options.all) return callback(null, allowed);
        callback(null, allowed[0]!.address, allowed[0]!.family);
      });
    }) as net.LookupFunction;
  }
}

/**
 * An MQTT notification topic must stay in the alert namespace (VIGIE_ALERT_MQTT_TOPIC) and
 * match none of the ingest's subscriptions (a retained message there would come back as
 * telemetry).
 */
export function mqttTopicProblem(topic: string, root: string, routes: readonly TopicRoute[]): string | null {
  if (topic !== root && !topic.startsWith(`${root}/`)) return `MQTT notification topics stay under ${root}/ (VIGIE_ALERT_MQTT_TOPIC)`;
  if (topic.split('/').some((level) => level === '')) return 'empty topic level';
  const hit = routes.find((r) => r.source !== 'http' && topicMatches(r.filter, topic));
  if (hit) return `topic ${topic} is read by the ingest (${hit.filter})`;
  return null;
}
