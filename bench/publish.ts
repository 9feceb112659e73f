/**
 * The benchmarks' publisher: `count` QoS 1 messages as fast as the broker takes them, with at
 * most `window` unacknowledged at a time (one MQTT 5 connection). Returns the seconds taken.
 * Not test/helpers/publisher.ts: that one prepares every message first and publishes again
 * what a reconnection lost, as a device would; a benchmark wants the raw rate, and an error.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';

export async function publishWindowed(url: string, count: number, window: number, message: (i: number) => { topic: string; payload: string }): Promise<number> {
  const pub = await mqtt.connectAsync(url, { clientId: `bench-pub-${randomBytes(3).toString('hex')}`, protocolVersion: 5 });
  const started = performance.now();
  let next = 0;
  let inflight = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (inflight < window && next < count) {
        const m = message(next++);
        inflight++;
        pub.publish(m.topic, m.payload, { qos: 1 }, (err) => {
          inflight--;
          if (err) return reject(err);
          if (next >= count && inflight === 0) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  await pub.endAsync();
  return seconds;
}
