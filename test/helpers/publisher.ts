/**
 * A device that keeps its promise under MQTT 3.1.1 §4.3.2: QoS 1 messages are kept until their
 * PUBACK and sent again after a reconnect (mqtt.js replays its outgoing store on every
 * connect); one whose send was cut by the connection closing (mqtt.js then fails it with
 * "Connection closed") is published again, as a device would. `publishWindow` keeps `window`
 * messages in flight and resolves once every message has its PUBACK.
 */
import { TEST_BROKER_LOGIN } from './platform.ts';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';

export interface Message {
  topic: string;
  payload: string | Buffer;
}

export async function publishWindow(url: string, messages: Message[], window = 200, clientId = `pub-${randomBytes(4).toString('hex')}`): Promise<{ acked: number; reconnects: number; resent: number }> {
  // Connected before the first publish: mqtt.js replays messages queued while offline one at a
  // time (each waits for its PUBACK), which would make the first window needlessly slow.
  const client = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 250, connectTimeout: 5000, keepalive: 10, ...TEST_BROKER_LOGIN });
  let reconnects = 0;
  client.on('reconnect', () => reconnects++);
  client.on('error', () => {});
  let next = 0;
  let acked = 0;
  let resent = 0;
  await new Promise<void>((resolve) => {
    const publish = (m: Message) =>
      client.publishAsync(m.topic, m.payload, { qos: 1 }).then(
        () => {
          acked++;
          if (acked === messages.length) resolve();
          else send();
        },
        () => {
          resent++;
          setTimeout(() => publish(m), 250);
        },
      );
    const send = () => {
      while (next < messages.length && next - acked < window) void publish(messages[next++]!);
    };
    send();
  });
  await client.endAsync();
  return { acked, reconnects, resent };
}
