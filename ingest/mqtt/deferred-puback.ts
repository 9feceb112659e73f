/**
 * Acknowledge QoS 1 messages only after they are committed, without making batches of one.
 *
 * mqtt.js handles incoming packets strictly one at a time: for QoS 1 it calls
 * `handleMessage(packet, cb)` and, when `cb` fires, sends the PUBACK and only then reads the
 * next packet (mqtt/build/lib/handlers/publish.js, `case 1`). Holding `cb` until the commit
 * would therefore serialize the whole stream; calling it at once would acknowledge before the
 * data is durable. Instead `cb` runs at once, the PUBACK mqtt.js writes is swallowed on its way
 * out (`_sendPacket`), and the gate writes its own when the batch holding the message commits.
 *
 * A PUBACK names a packet identifier, not a message, and the broker reuses an identifier as
 * soon as it is acknowledged (MQTT 3.1.1 §2.3.1, MQTT 5 §2.2.1). So the gate acknowledges a
 * *delivery*: the one packet received with that identifier on the current connection, once.
 * - A delivery belongs to its connection. After a reconnect the old ones are never
 *   acknowledged: the broker sends those messages again (persistent session, MQTT 3.1.1 §4.4,
 *   MQTT 5 §4.4) and idempotent writes absorb the copies.
 * - A packet read after its connection closed (mqtt.js may still hand over what it parsed) is
 *   no delivery at all: `receive` refuses it and the broker's resend is the one taken. Taking
 *   both would acknowledge one identifier twice, and the second PUBACK would acknowledge
 *   whatever message the broker had meanwhile sent under that identifier, possibly one still
 *   unread in the socket and lost with the next reconnect.
 * - A delivery superseded by a newer one with the same identifier, or already acknowledged,
 *   releases nothing.
 */
import type { MqttClient } from 'mqtt';

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

/** One QoS 1 packet received on one connection (compared by identity). */
export interface Delivery {
  readonly messageId: number;
}

export interface PubackGate {
  /** Registers a QoS 1 packet just received; null when its connection is already closed. */
  receive(messageId: number): Delivery | null;
  /** Sends the PUBACK of `delivery` if it is still the connection's outstanding one for its id. */
  release(delivery: Delivery): void;
}

export function installPubackGate(client: MqttClient): PubackGate {
  const outstanding = new Map<number, Delivery>();
  const internal = client as unknown as { _sendPacket: SendPacket };
  const original = internal._sendPacket.bind(client) as SendPacket;

  internal._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd !== 'puback') return original(packet, cb, ...rest);
    // mqtt.js's own PUBACK, written as soon as `handleMessage` calls back: never sent (a PUBACK
    // handed to mqtt.js while offline would even be queued and sent on the next connection,
    // where the identifier may name another message). Let it read the next packet.
    cb?.();
  };

  // A closed connection's deliveries are never acknowledged.
  client.on('close', () => outstanding.clear());

  return {
    receive(messageId) {
      // mqtt.js sets `connected` on CONNACK and clears it on close; packets of the new stream
      // only come after its CONNACK, and those of the old one are dropped once it reconnects.
      if (!client.connected) return null;
      const delivery = { messageId };
      outstanding.set(messageId, delivery);
      return delivery;
    },
    release(delivery) {
      // Stale: its connection closed, or superseded, or already acknowledged.
      if (outstanding.get(delivery.messageId) !== delivery || !client.connected) return;
      outstanding.delete(delivery.messageId);
      original({ cmd: 'puback', messageId: delivery.messageId });
    },
  };
}
