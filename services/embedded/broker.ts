/**
 * The embedded default broker: aedes on a TCP port, so devices connect to it exactly as to
 * Mosquitto.
 *
 * Acknowledged means stored. aedes answers a QoS 1 PUBLISH with its PUBACK before it even
 * queues the message (lib/handlers/publish.js), so a crash, or aedes-persistence-level
 * queueing out of order, could lose a message the device believes delivered. Vigie's ingest
 * therefore takes the messages of its own topics in-process, in `authorizePublish` (which aedes
 * runs before it answers): the hook returns only once the message is committed to PostgreSQL
 * (or recorded as a dead letter), so the PUBACK leaves after the commit, as with an external
 * broker where the ingest holds its PUBACKs (MQTT 3.1.1 §4.3.2: the sender keeps the message
 * until the PUBACK). A message that cannot be taken (shutting down) gets no PUBACK and the
 * connection is closed, so the device sends it again. Vigie's ingest client still connects over
 * loopback, to publish (Sparkplug rebirth requests, alert events), but subscribes to nothing.
 *
 * Sessions, subscriptions, retained messages and queued messages of other subscribers are kept
 * in a LevelDB store under the data directory (aedes-persistence-level).
 */
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import levelPersistence from 'aedes-persistence-level';
import { Level } from 'level';
import type { Logger } from 'pino';
import { VigieError } from '../errors.ts';
import { maxPacketBytes, PacketSizeScanner } from './packet-limit.ts';

/** How Vigie's ingest takes messages straight from the broker. */
export interface BrokerIntake {
  /** True when the ingest handles this topic (as published, with any deployment prefix). */
  accepts(topic: string): boolean;
  /** Resolves once the message is committed or dead-lettered; rejects if it was not taken. */
  submit(topic: string, payload: Buffer): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  port: number;
  dataDir: string;
  logger: Logger;
  host?: string;
  /** VIGIE_MAX_PAYLOAD_BYTES: packets larger than it plus a topic's room are refused. */
  maxPayloadBytes: number;
  /** Client id of Vigie's own connection, whose publishes are not ingested. */
  ingestClientId: string;
}

export interface EmbeddedBrokerHandle {
  port: number;
  url: string;
  /** Starts handing ingest topics to `intake`; publishes on them wait until then. */
  attachIntake(intake: BrokerIntake): void;
  close(): Promise<void>;
}

interface OrderedPersistence {
  createRetainedStreamCombi(patterns: string[]): Readable;
  outgoingEnqueueCombi(subs: unknown[], packet: unknown): Promise<unknown>;
}

export async function startEmbeddedBroker(o: EmbeddedBrokerOptions): Promise<EmbeddedBrokerHandle> {
  const { port, dataDir, logger, host = '0.0.0.0' } = o;
  const log = logger.child({ component: 'embedded-broker' });
  const db = new Level<string, unknown>(path.join(dataDir, 'mqtt'));
  await db.open();
  const persistence = levelPersistence(db as never) as OrderedPersistence;
  // aedes pipes this stream without an error listener (lib/handlers/subscribe.js): a SUBSCRIBE
  // still fetching retained messages while the broker shuts down would crash the process with
  // LEVEL_DATABASE_NOT_OPEN. The subscriber is gone by then; end its stream quietly.
  const createRetained = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) =>
    createRetained(patterns).on('error', (err: Error) => log.debug({ err }, 'retained-message lookup ended by shutdown'));
  // aedes delivers a QoS 1 message only if its broker counter is above the last one the client
  // got (`dedupe` in lib/client.js), and emits each message when its enqueue completes. LevelDB
  // writes complete out of order, so a message whose enqueue finished after a later one's was
  // silently skipped. Enqueues still run concurrently but now complete in the order they began,
  // which is the order of the broker counters.
  const enqueue = persistence.outgoingEnqueueCombi.bind(persistence);
  let lastEnqueue: Promise<unknown> = Promise.resolve();
  persistence.outgoingEnqueueCombi = (subs, packet) => {
    const written = enqueue(subs, packet);
    const ordered = lastEnqueue.then(() => written);
    lastEnqueue = ordered.catch(() => undefined);
    return ordered;
  };

  let intake: BrokerIntake | undefined;
  let intakeAttached: () => void = () => {};
  const intakeReady = new Promise<void>((resolve) => (intakeAttached = resolve));
  const authorizePublish = (client: Client | null, packet: PublishPacket, callback: (err?: Error | null) => void) => {
    if (!client || client.id === o.ingestClientId || packet.topic.startsWith('$')) return callback(null);
    void intakeReady
      .then(async () => {
        if (intake!.accepts(packet.topic)) {
          const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
          await intake!.submit(packet.topic, payload);
        }
      })
      .then(
        () => callback(null),
        (err: Error) => {
          log.warn({ err, clientId: client.id, topic: packet.topic }, 'message not taken; no PUBACK, the client will send it again');
          callback(err);
        },
      );
  };

  const broker = await Aedes.createBroker({ id: 'vigie-embedded', persistence: persistence as never, authorizePublish });
  const closeBroker = () => new Promise<void>((resolve) => broker.close(() => resolve())).then(() => db.close());
  const maxPacket = maxPacketBytes(o.maxPayloadBytes);
  const server = net.createServer((socket) => {
    // aedes pulls with read() when it is ready for the next batch; scanning there sees every
    // byte once, before mqtt-packet buffers it.
    const scanner = new PacketSizeScanner(maxPacket);
    const read = socket.read.bind(socket);
    socket.read = ((size?: number) => {
      const chunk = read(size) as Buffer | null;
      if (chunk) {
        const announced = scanner.scan(chunk);
        if (announced) {
          log.warn({ remote: socket.remoteAddress, announced, limit: maxPacket }, 'MQTT packet over the size limit; connection closed (VIGIE_MAX_PAYLOAD_BYTES)');
          socket.destroy();
          return null;
        }
      }
      return chunk;
    }) as typeof socket.read;
    broker.handle(socket);
  });
  broker.on('clientError', (client, err) => log.debug({ clientId: client?.id, err }, 'client error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      void closeBroker();
      if (err.code === 'EADDRINUSE') {
        reject(new VigieError('VIGIE_ERR_MQTT_PORT_IN_USE', `port ${port} is already in use, so the embedded MQTT broker cannot listen: set VIGIE_MQTT_PORT to a free port, or set MQTT_URL to use the broker that is there`));
      } else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as net.AddressInfo).port;
  log.info({ port: actual, maxPacketBytes: maxPacket }, 'embedded MQTT broker listening');
  return {
    port: actual,
    url: `mqtt://127.0.0.1:${actual}`,
    attachIntake(i) {
      intake = i;
      intakeAttached();
    },
    close: async () => {
      // Stop accepting first; the server's close completes once aedes has closed its clients.
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await closeBroker();
      await serverClosed;
    },
  };
}
