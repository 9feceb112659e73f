/**
 * `vigie replay`: a recording played back on a broker, at its original pacing, faster, or as
 * fast as the broker takes it; every timestamp inside the payloads moved by the same offset
 * (shift.ts) so a recorded night replays as tonight; devices renamed or cloned (rewrite.ts).
 */
import type { BrokerConnection } from '../fleet/connection.ts';
import { createProgress, rate } from '../fleet/progress.ts';
import { Publisher } from '../fleet/publisher.ts';
import { readRecording, type RecordedMessage } from './format.ts';
import { cloneMessage, rewrite, type Rule } from './rewrite.ts';
import { shiftPayload } from './shift.ts';

export interface ReplayOptions {
  broker: BrokerConnection;
  file: string;
  /** 1 = original pacing; Infinity = as fast as possible. */
  speed?: number;
  /** Offset added to every timestamp (ms). */
  shiftMs?: number;
  /** Or: the instant the recording's first message is moved to ("now" = when the replay starts). */
  shiftTo?: number | 'now';
  /** Copies of every message, devices renamed (0: the original only). */
  clones?: number;
  /** Keep the original besides the clones (default true). */
  keepOriginal?: boolean;
  rules?: Rule[];
  /** Prefix added to every topic; `stripPrefix` removed first. */
  topicPrefix?: string;
  stripPrefix?: string;
  progress?: boolean;
  maxInflight?: number;
  stop?: Promise<void>;
  onMessage?: (m: RecordedMessage) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function firstTime(file: string): Promise<number | undefined> {
  for await (const m of readRecording(file)) return m.t;
  return undefined;
}

/** Every variant of one recorded message to publish: rules applied, then the original and its clones. */
export function variants(m: RecordedMessage, o: Pick<ReplayOptions, 'clones' | 'keepOriginal' | 'rules' | 'stripPrefix'>): Array<{ topic: string; payload: Buffer }> {
  let topic = o.stripPrefix && m.topic.startsWith(o.stripPrefix) ? m.topic.slice(o.stripPrefix.length) : m.topic;
  let payload = m.payload;
  ({ topic, payload } = rewrite(topic, payload, o.rules ?? []));
  const out = o.keepOriginal === false && (o.clones ?? 0) > 0 ? [] : [{ topic, payload }];
  for (let n = 1; n <= (o.clones ?? 0); n++) out.push(cloneMessage(topic, payload, n));
  return out;
}

export async function replay(o: ReplayOptions): Promise<{ read: number; published: number; errors: number; shiftMs: number; wallMs: number }> {
  const speed = o.speed ?? 1;
  const wall0 = Date.now();
  const first = await firstTime(o.file);
  if (first === undefined) return { read: 0, published: 0, errors: 0, shiftMs: 0, wallMs: 0 };
  const shiftMs = o.shiftTo !== undefined ? (o.shiftTo === 'now' ? wall0 : o.shiftTo) - first : (o.shiftMs ?? 0);
  const pub = new Publisher(o.broker, o.topicPrefix ?? '', o.maxInflight);
  await pub.start();
  const progress = createProgress(o.progress ?? process.stderr.isTTY === true);
  let stopped = false;
  void o.stop?.then(() => (stopped = true));
  let read = 0;
  let last = first;
  for await (const m of readRecording(o.file)) {
    if (stopped) break;
    read++;
    last = m.t;
    if (Number.isFinite(speed)) {
      const wait = wall0 + (m.t - first) / speed - Date.now();
      if (wait > 0) await sleep(wait);
    }
    for (const v of variants(m, o)) {
      const payload = shiftPayload(v.topic, v.payload, shiftMs);
      o.onMessage?.({ ...m, topic: v.topic, payload });
      await pub.publish(v.topic, payload, { qos: m.qos, retain: m.retain });
    }
    progress.update(`replayed ${read} messages, sent ${pub.stats.sent}  ${rate(pub.stats.sent, Date.now() - wall0)} msg/s  recording clock ${new Date(m.t + shiftMs).toISOString().slice(0, 19)}Z  errors ${pub.stats.errors}`);
  }
  await pub.close();
  const wallMs = Date.now() - wall0;
  progress.done(`replayed ${read} recorded messages (${new Date(first).toISOString()} .. ${new Date(last).toISOString()}, shifted by ${(shiftMs / 3_600_000).toFixed(2)} h): ${pub.stats.sent} published in ${(wallMs / 1000).toFixed(1)} s, ${pub.stats.errors} errors`);
  return { read, published: pub.stats.sent, errors: pub.stats.errors, shiftMs, wallMs };
}
