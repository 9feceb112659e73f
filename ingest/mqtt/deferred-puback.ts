/**
 * Acknowledge QoS 1 messages only after they are committed, without making batches of one.
 *
 * mqtt.js handles incoming packets strictly one at a time: for QoS 1 it calls
 * `handleMessage(packet, cb)` and, when `cb` fires, sends the PUBACK and only then reads the
 * next packet (mqtt/build/lib/handlers/publish.js, `case 1`). Holding `cb` until the commit
 * would therefore serialize the whole stream; calling it at once would acknowledge before the
 * data is durable. Instead we let `cb` run at once and hold the PUBACK packet itself on its
 * way out (`_sendPacket`), releasing it when the batch holding the message is committed.
 *
 * A held PUBACK belongs to the connection it was received on: message ids are reused across
 * connections, so after a reconnect the old ones are dropped, never sent. The broker then
 * redelivers those messages (persistent session, MQTT 3.1.1 §4.4) and idempotent writes
 * absorb the duplicates.
 */
import type { MqttClient } from 'mqtt';

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

export interface PubackGate {
  /** Identifies the current connection; captured with each received message. */
  readonly generation: number;
  /** Releases the PUBACK of `messageId` received on connection `generation`. */
  release(messageId: number, generation: number): void;
  /** PUBACKs held, waiting for a commit. */
  readonly held: number;
}

export function installPubackGate(client: MqttClient): PubackGate {
  let generation = 0;
  const held = new Map<number, { packet: { cmd: string; messageId?: number } }>();
  /** Commits that finished before mqtt.js produced the PUBACK (cannot happen today, kept safe). */
  const released = new Set<number>();
  const internal = client as unknown as { _sendPacket: SendPacket };
  const original = internal._sendPacket.bind(client) as SendPacket;

  internal._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd !== 'puback' || packet.messageId === undefined) return original(packet, cb, ...rest);
    const id = packet.messageId;
    if (released.delete(id)) return original(packet, cb, ...rest);
    held.set(id, { packet });
    // Let mqtt.js read the next packet now; the PUBACK itself waits for the commit.
    cb?.();
  };

  client.on('close', () => {
    generation += 1;
    held.clear();
    released.clear();
  });

  return {
    get generation() {
      return generation;
    },
    get held() {
      return held.size;
    },
    release(messageId, gen) {
      if (gen !== generation || !client.connected) return;
      const entry = held.get(messageId);
      if (!entry) {
        released.add(messageId);
        return;
      }
      held.delete(messageId);
      original(entry.packet);
    },
  };
}
