/**
 * The MQTT intake's acknowledgements against a real Mosquitto with the shipped configuration:
 * a PUBACK leaves only after the message's commit, names the delivery it acknowledges on the
 * current connection, and leaves once (a second PUBACK for an identifier would acknowledge
 * whatever message the broker sent next under it, MQTT 5 §2.2.1 and §4.3.2). Intake that pauses
 * behind a backlog keeps its connection: the broker would otherwise resend everything in flight
 * and a sustained overload turns into a reconnection loop.
 *
 * The consumer here commits into memory at a chosen pace, so the test controls when intake is
 * full; the storage side of "acknowledged after commit" is covered by test/crash-redelivery.test.ts.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import pino from 'pino';
import t from 'tap';
import { MqttSource, type MessageConsumer } from '../ingest/mqtt/mqtt-source.ts';
import { startShippedMosquitto } from './helpers/shipped-mosquitto.ts';
import { waitFor } from './helpers/wait.ts';

const broker = await startShippedMosquitto();
t.teardown(() => broker.stop());

interface Run {
  stored: Uint8Array;
  reconnects: number;
  pubacks: number;
  /** PUBACKs for an identifier with no delivery outstanding on the connection. */
  unmatched: number;
  /** PUBACKs for a delivery whose message was not committed yet. */
  beforeCommit: number;
}

/**
 * Publishes `n` numbered messages while a slow consumer (`perTick` commits every 50 ms, a
 * `stallMs` pause every `stallEveryMs`) takes them; `cutEveryMs` cuts the connection.
 */
async function run(o: { n: number; capacity: number; perTick: number; keepaliveSeconds: number; stallEveryMs?: number; stallMs?: number; cutEveryMs?: number }): Promise<Run> {
  const prefix = `gate${randomBytes(3).toString('hex')}/`;
  const source = new MqttSource({
    url: broker.url,
    clientId: `gate-${randomBytes(4).toString('hex')}`,
    protocolVersion: 5,
    filters: ['m/#'],
    topicPrefix: prefix,
    receiveMaximum: o.capacity,
    keepaliveSeconds: o.keepaliveSeconds,
    logger: pino({ level: 'silent' }),
  });
  const r: Run = { stored: new Uint8Array(o.n), reconnects: 0, pubacks: 0, unmatched: 0, beforeCommit: 0 };
  let pending: Array<{ seq: number; ack: () => void }> = [];
  let inflight = 0;
  let waiters: Array<() => void> = [];
  const consumer: MessageConsumer = {
    accept(m, ack) {
      inflight++;
      pending.push({ seq: Number(m.payload.toString()), ack });
    },
    hasCapacity: () => inflight < o.capacity,
    waitForCapacity: () => new Promise<void>((resolve) => waiters.push(resolve)),
  };
  let stopped = false;
  let lastStall = Date.now();
  const committer = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (o.stallEveryMs && Date.now() - lastStall > o.stallEveryMs) {
        await new Promise((resolve) => setTimeout(resolve, o.stallMs));
        lastStall = Date.now();
      }
      const batch = pending.splice(0, o.perTick);
      for (const m of batch) r.stored[m.seq] = 1;
      for (const m of batch) m.ack();
      inflight -= batch.length;
      if (inflight < o.capacity) for (const w of waiters.splice(0)) w();
    }
  })();
  await source.start(consumer);
  const client = (source as unknown as { client: mqtt.MqttClient }).client;
  client.on('reconnect', () => r.reconnects++);
  // What the wire carries on the current connection: its deliveries, and each PUBACK.
  const outstanding = new Map<number, number>();
  client.on('close', () => outstanding.clear());
  client.on('packetreceive', (p) => {
    if (p.cmd === 'publish' && p.qos === 1 && client.connected) outstanding.set(p.messageId!, Number(p.payload.toString()));
  });
  client.on('packetsend', (p) => {
    if (p.cmd !== 'puback') return;
    r.pubacks++;
    const seq = outstanding.get(p.messageId!);
    if (seq === undefined) r.unmatched++;
    else if (!r.stored[seq]) r.beforeCommit++;
    outstanding.delete(p.messageId!);
  });
  const cutter = o.cutEveryMs ? setInterval(() => client.connected && client.stream.destroy(), o.cutEveryMs) : undefined;

  const pub = await mqtt.connectAsync(broker.url, { clientId: `gate-pub-${randomBytes(4).toString('hex')}`, protocolVersion: 5 });
  for (let i = 0; i < o.n; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, o.n - i) }, (_, k) => pub.publishAsync(`${prefix}m/${(i + k) % 50}`, String(i + k), { qos: 1 })));
  }
  await pub.endAsync();
  await waitFor(() => r.stored.every((x) => x === 1), 120_000, 'every message committed').catch(() => {});
  clearInterval(cutter);
  stopped = true;
  await committer;
  await source.close(true);
  return r;
}

const missing = (r: Run) => r.stored.length - r.stored.reduce((a, b) => a + b, 0);

t.test('a backlog longer than the keep alive, and commits that stall past it: the connection stays, each message is acknowledged once after its commit', async (t) => {
  // 8,000 messages at 1,600 a second behind a keep alive of 1 s: the broker's PINGRESP waits
  // behind seconds of PUBLISH packets, and intake pauses for 2.5 s at a time.
  const r = await run({ n: 8000, capacity: 1000, perTick: 80, keepaliveSeconds: 1, stallEveryMs: 2000, stallMs: 2500 });
  t.equal(missing(r), 0, 'every message committed');
  t.equal(r.reconnects, 0, 'no reconnection');
  t.equal(r.pubacks, 8000, 'one PUBACK per message');
  t.equal(r.unmatched, 0, 'no PUBACK without its delivery');
  t.equal(r.beforeCommit, 0, 'no PUBACK before its commit');
});

t.test('connections cut under load: every PUBACK names a committed delivery of its own connection, once', async (t) => {
  // Cuts while intake is full: what mqtt.js had parsed from the closed connection is handed
  // over after the close, while the broker resends the same deliveries on the new one.
  const r = await run({ n: 20000, capacity: 2000, perTick: 120, keepaliveSeconds: 30, cutEveryMs: 2500 });
  t.equal(missing(r), 0, 'every message committed');
  t.ok(r.reconnects >= 2, `the connection was cut (${r.reconnects} reconnections)`);
  t.equal(r.unmatched, 0, 'no PUBACK without its delivery on the current connection');
  t.equal(r.beforeCommit, 0, 'no PUBACK before its commit');
});
