/**
 * Device and topic rewriting for replays: literal `from=to` rules on topics and on the strings
 * inside payloads, and clones (`--clone 10` replays one station as ten). A clone's id is the
 * device id with `-c<n>`; a 16-hex-digit id (a LoRaWAN DevEUI, ChirpStack's device id) stays a
 * DevEUI, its last four digits moved by n. Sparkplug clones are new edge nodes (the node id is
 * in the topic only); CBOR SenML packs are rewritten label by label.
 */
import { Decoder, Encoder } from 'cbor-x';

const cborDecoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const cborEncoder = new Encoder({ mapsAsObjects: false, useRecords: false });

export interface Rule {
  from: string;
  to: string;
}

export function parseRule(text: string): Rule {
  const i = text.indexOf('=');
  if (i <= 0) throw new Error(`rewrite rule "${text}": expected from=to`);
  return { from: text.slice(0, i), to: text.slice(i + 1) };
}

export function cloneId(id: string, n: number): string {
  if (/^[0-9a-fA-F]{16}$/.test(id)) {
    const tail = ((parseInt(id.slice(12), 16) + n) % 0x10000).toString(16).padStart(4, '0');
    return id.slice(0, 12) + (id === id.toUpperCase() ? tail.toUpperCase() : tail);
  }
  return `${id}-c${n}`;
}

/** The device ids a message names, from its topic (and NGSI payloads, which carry them inside). */
export function deviceIdsOf(topic: string, payload: Buffer): string[] {
  const l = topic.split('/');
  const at = (name: string, offset: number) => {
    const i = l.indexOf(name);
    return i >= 0 ? l[i + offset] : undefined;
  };
  if (l.includes('spBv1.0')) return [at('spBv1.0', 3)].filter((x): x is string => !!x);
  if (l.at(-1) === 'telemetry' || l.at(-1) === 'senml') return [l.at(-2)!];
  if (l.at(-1) === 'up' && at('devices', 1)) return [at('devices', 1)!];
  if (at('device', 1) && l.includes('event')) return [at('device', 1)!];
  if (l.at(-1) === 'ngsi') {
    try {
      const json = JSON.parse(payload.toString('utf8')) as unknown;
      const entities = (Array.isArray(json) ? json : [json]) as Array<Record<string, unknown>>;
      const ids = new Set<string>();
      for (const e of entities) {
        const ref = e.refDevice as unknown;
        const v = typeof ref === 'string' ? ref : ref && typeof ref === 'object' ? ((ref as { value?: string; object?: string }).value ?? (ref as { object?: string }).object) : undefined;
        if (typeof v === 'string') ids.add(v.replace(/^urn:ngsi-ld:Device:/, ''));
      }
      return [...ids];
    } catch {
      return [];
    }
  }
  return [];
}

function replaceAll(s: string, rules: Rule[]): string {
  let out = s;
  for (const r of rules) out = out.split(r.from).join(r.to);
  return out;
}

function deep(v: unknown, rules: Rule[]): unknown {
  if (typeof v === 'string') return replaceAll(v, rules);
  if (Array.isArray(v)) return v.map((x) => deep(x, rules));
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, deep(x, rules)]));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x, rules)]));
  return v;
}

/** Applies literal rules to a topic and to every string of a JSON or CBOR payload (Sparkplug: topic only). */
export function rewrite(topic: string, payload: Buffer, rules: Rule[]): { topic: string; payload: Buffer } {
  if (rules.length === 0) return { topic, payload };
  const newTopic = replaceAll(topic, rules);
  if (topic.split('/').includes('spBv1.0')) return { topic: newTopic, payload };
  const first = payload[0] ?? 0;
  if (first >= 0x80 && first <= 0x9f) {
    try {
      return { topic: newTopic, payload: Buffer.from(cborEncoder.encode(deep(cborDecoder.decode(payload), rules))) };
    } catch {
      return { topic: newTopic, payload };
    }
  }
  try {
    return { topic: newTopic, payload: Buffer.from(JSON.stringify(deep(JSON.parse(payload.toString('utf8')), rules))) };
  } catch {
    return { topic: newTopic, payload };
  }
}

/** The n-th clone of a message (n >= 1): its devices renamed everywhere they appear. */
export function cloneMessage(topic: string, payload: Buffer, n: number): { topic: string; payload: Buffer } {
  const ids = deviceIdsOf(topic, payload);
  const rules = ids.flatMap((id) => {
    const c = cloneId(id, n);
    // A DevEUI appears lower-case in ChirpStack topics and upper-case in some payload fields.
    return /^[0-9a-fA-F]{16}$/.test(id) ? [{ from: id.toLowerCase(), to: c.toLowerCase() }, { from: id.toUpperCase(), to: c.toUpperCase() }] : [{ from: id, to: c }];
  });
  return rewrite(topic, payload, rules);
}
