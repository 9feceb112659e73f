/**
 * A flood of garbage on one topic must not starve valid traffic on the others (issue 3,
 * ../shared/ARCHITECTURE.md "a flood from one device starving everyone else").
 *
 * One MQTT subscription is one FIFO at the broker, and acks leave only after commit, so what
 * a flood can do is make valid messages queue behind it. Garbage costs a failed parse and a
 * dead-letter row, never a retry, a blocked ack or a crash; the bounds this test holds (and
 * the README ("Robustness") documents): garbage drains at 500 msg/s or more (5x a département's
 * whole nominal load), valid messages published during a 5,000-message flood are stored with
 * a p95 latency under 1 s, and none waits longer than the flood takes to drain.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const FLOOD = 5000;
const VALID = 40;

const tp = await startTestPlatform();
t.teardown(() => tp.stop());
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
    void pub.publishAsync(`${P}vigie/${device}/senml`, JSON.stringify([{ bt: base + i, n: 'co2', u: 'ppm', v: 400 + i }]), { qos: 1 });
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

t.test('valid traffic keeps flowing during a garbage flood, within the drain time of the flood', async (t) => {
  const quiet = await measure('flood-baseline');

  // Distinct garbage each time: no dead-letter folding helps.
  const garbage = await burst(
    () => `${P}vigie/flood-garbage/senml`,
    (i) => randomBytes(64 + (i % 128)),
    async () => (await count(`select coalesce(sum(occurrences), 0)::int as n from dead_letters where topic = 'vigie/flood-garbage/senml'`)) >= FLOOD,
  );
  const during = await measure('flood-victim');
  const garbageMs = await garbage.done;

  // The same volume of valid traffic, for comparison.
  const t0 = Math.floor(Date.now() / 1000) - FLOOD;
  const valid = await burst(
    () => `${P}vigie/flood-chatty/senml`,
    (i) => JSON.stringify([{ bt: t0 + i, n: 'co2', u: 'ppm', v: 400 }]),
    async () => (await count(`select count(*)::int as n from observations where device_id = 'flood-chatty'`)) >= FLOOD,
  );
  const validMs = await valid.done;

  t.comment(`quiet: valid latency p50 ${pct(quiet, 50)} ms, p95 ${pct(quiet, 95)} ms`);
  t.comment(`${FLOOD} garbage messages drained in ${garbageMs} ms (${Math.round((FLOOD * 1000) / garbageMs)} msg/s); ${FLOOD} valid ones in ${validMs} ms (${Math.round((FLOOD * 1000) / validMs)} msg/s)`);
  t.comment(`during the flood: valid latency p50 ${pct(during, 50)} ms, p95 ${pct(during, 95)} ms, max ${during[during.length - 1]} ms`);
  t.equal(during.length, VALID, 'every valid message published during the flood was stored');
  t.ok((FLOOD * 1000) / garbageMs >= 500, `garbage drains at ${Math.round((FLOOD * 1000) / garbageMs)} msg/s (>= 500)`);
  t.ok(pct(during, 95) < 1000, `p95 latency of valid messages during the flood ${pct(during, 95)} ms < 1000 ms`);
  t.ok(during[during.length - 1]! <= garbageMs + 1000, `no valid message waited longer than the flood takes to drain (${during[during.length - 1]} ms <= ${garbageMs} + 1000 ms)`);
});
