/**
 * npm run bench:flood
 *
 * A flood of garbage on one topic against valid traffic on others (docs/wire-formats.md, "Robustness"): one
 * MQTT subscription is one FIFO at the broker and acks leave only after commit, so what a
 * flood can do is make valid messages queue behind it. Prints JSON: how fast distinct garbage
 * drains, how fast the same volume of valid messages does, and the publish-to-stored latency
 * of valid messages sent 25 ms apart, quiet and during the flood. Runs the real platform on
 * the machine's PostgreSQL and Mosquitto (test helpers: own database, own topic prefix).
 */
import { randomBytes } from 'node:crypto';
import { startTestPlatform } from '../test/helpers/platform.ts';
import { waitFor } from '../test/helpers/wait.ts';

const FLOOD = 5000;
const VALID = 40;

const tp = await startTestPlatform();
const P = tp.prefix;

/** Publishes VALID SenML messages 25 ms apart and returns each one's publish-to-stored latency. */
async function measure(device: string): Promise<number[]> {
  const pub = await tp.publisher();
  const sentAt = new Map<number, number>();
  const seenAt = new Map<number, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const { rows } = await tp.platform.pool.query(`select value from observations where device_id = $1`, [device]);
      const now = Date.now();
      for (const r of rows) if (!seenAt.has(r.value)) seenAt.set(r.value, now);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const base = Math.floor(Date.now() / 1000);
  for (let i = 0; i < VALID; i++) {
    sentAt.set(400 + i, Date.now());
    void pub.publishAsync(`${P}vigie/${device}/senml`, JSON.stringify([{ bver: 26, bt: base + i, n: 'co2', u: 'ppm', v: 400 + i }]), { qos: 1 });
    await new Promise((r) => setTimeout(r, 25));
  }
  await waitFor(() => seenAt.size === VALID, 30_000, `all ${VALID} valid messages of ${device}`);
  polling = false;
  await poller;
  return [...sentAt].map(([v, at]) => seenAt.get(v)! - at).sort((a, b) => a - b);
}

/** Publishes `n` messages as fast as QoS 1 allows and resolves when `drained` says they are all stored. */
async function burst(topic: (i: number) => string, payload: (i: number) => Buffer | string, drained: () => Promise<boolean>): Promise<{ done: Promise<number> }> {
  const client = await tp.publisher();
  const started = Date.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < FLOOD; i++) {
    pending.push(client.publishAsync(topic(i), payload(i), { qos: 1 }));
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  return {
    done: (async () => {
      await Promise.all(pending);
      await waitFor(async () => (await drained()) || undefined, 120_000, 'burst drained');
      return Date.now() - started;
    })(),
  };
}

const count = async (sql: string) => (await tp.platform.pool.query(sql)).rows[0].n as number;
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

const quiet = await measure('flood-baseline');
// Distinct garbage each time: no dead-letter folding helps.
const garbage = await burst(
  () => `${P}vigie/flood-garbage/senml`,
  (i) => randomBytes(64 + (i % 128)),
  async () => (await count(`select coalesce(sum(occurrences), 0)::int as n from dead_letters where topic = 'vigie/flood-garbage/senml'`)) >= FLOOD,
);
const during = await measure('flood-victim');
const garbageMs = await garbage.done;
const t0 = Math.floor(Date.now() / 1000) - FLOOD;
const valid = await burst(
  () => `${P}vigie/flood-chatty/senml`,
  (i) => JSON.stringify([{ bt: t0 + i, n: 'co2', u: 'ppm', v: 400 }]),
  async () => (await count(`select count(*)::int as n from observations where device_id = 'flood-chatty'`)) >= FLOOD,
);
const validMs = await valid.done;
await tp.stop();
const latency = (xs: number[]) => ({ p50Ms: pct(xs, 50), p95Ms: pct(xs, 95), maxMs: xs[xs.length - 1] });
process.stdout.write(
  `${JSON.stringify(
    {
      floodMessages: FLOOD,
      garbage: { drainMs: garbageMs, messagesPerSecond: Math.round((FLOOD * 1000) / garbageMs) },
      validBurst: { drainMs: validMs, messagesPerSecond: Math.round((FLOOD * 1000) / validMs) },
      validLatencyQuiet: latency(quiet),
      validLatencyDuringFlood: latency(during),
    },
    null,
    2,
  )}\n`,
);
