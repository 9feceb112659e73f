/**
 * The embedded default broker: aedes on a TCP port, so devices connect to it exactly as to
 * Mosquitto. With a guard (services/embedded/broker-guard.ts) every client authenticates and
 * stays inside its topics; with certificates, a TLS listener (mqtts) runs beside the plain one.
 *
 * Acknowledged means stored. aedes answers a QoS 1 PUBLISH with its PUBACK before it even
 * queues the message (lib/handlers/publish.js), so a crash, or aedes-persistence-level
 * queueing out of order, could lose a message the device believes delivered. Vigie's ingest
 * therefore takes the messages of its own topics in-process, in `authorizePublish` (which aedes
 * runs before it answers; the guard's ACL check runs first): the hook returns only once the
 * message is committed to PostgreSQL (or recorded as a dead letter), so the PUBACK leaves after
 * the commit, as with an external broker where the ingest holds its PUBACKs (MQTT 3.1.1 §4.3.2:
 * the sender keeps the message until the PUBACK). A message that cannot be taken (shutting
 * down) gets no PUBACK and the connection is closed, so the device sends it again. Vigie's
 * ingest client still connects over loopback, to publish (Sparkplug rebirth requests, alert
 * events), but subscribes to nothing.
 *
 * Sessions, subscriptions, retained messages and queued messages of other subscribers are kept
 * in a LevelDB store under the data directory (aedes-persistence-level).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import levelPersistence from 'aedes-persistence-level';
import { Level } from 'level';
import type { Logger } from 'pino';
import type { BrokerAuthenticator } from '../broker-auth/authenticator.ts';
import type { BrokerInstruments } from '../broker-auth/instruments.ts';
import { VigieError } from '../errors.ts';
import { installBrokerGuard, type BrokerGuard } from './broker-guard.ts';
import { maxPacketBytes, PacketSizeScanner } from './packet-limit.ts';

/** How Vigie's ingest takes messages straight from the broker. */
export interface BrokerIntake {
  /** True when the ingest handles this topic (as published, with any deployment prefix). */
  accepts(topic: string): boolean;
  /** Resolves once the message is committed or dead-lettered; rejects if it was not taken. */
  submit(topic: string, payload: Buffer): Promise<void>;
}

export interface EmbeddedBrokerTls {
  port: number;
  host: string;
  certFile: string;
  keyFile: string;
  /** CA of client certificates: set, clients may authenticate with a certificate (CN = device id). */
  caFile?: string;
}

export interface EmbeddedBrokerOptions {
  port: number;
  dataDir: string;
  logger: Logger;
  /** Listen address of the plain listener (VIGIE_MQTT_HOST). */
  host?: string;
  /** VIGIE_MAX_PAYLOAD_BYTES: packets larger than it plus a topic's room are refused. */
  maxPayloadBytes: number;
  /** Client id of Vigie's own connection, whose publishes are not ingested. */
  ingestClientId: string;
  auth?: BrokerAuthenticator;
  instruments?: BrokerInstruments;
  /** How often revoked credentials are looked for among connected clients. */
  sweepMs?: number;
  tls?: EmbeddedBrokerTls;
}

export interface EmbeddedBrokerHandle {
  /** Listen address of the plain listener. */
  host: string;
  port: number;
  /** URL Vigie's ingest uses (loopback when the broker listens on every interface). */
  url: string;
  tlsPort?: number;
  guard?: BrokerGuard;
  /** Starts handing ingest topics to `intake`; publishes on them wait until then. */
  attachIntake(intake: BrokerIntake): void;
  close(): Promise<void>;
}

interface OrderedPersistence {
  createRetainedStreamCombi(patterns: string[]): Readable;
  outgoingEnqueueCombi(subs: unknown[], packet: unknown): Promise<unknown>;
}

function listen(server: net.Server, port: number, host: string, onInUse: () => VigieError): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? onInUse() : err));
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

const closeServer = (server: net.Server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

/** Where a local client reaches a listener bound to `host`. */
function localHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startEmbeddedBroker(o: EmbeddedBrokerOptions): Promise<EmbeddedBrokerHandle> {
  const { port, dataDir, logger } = o;
  const host = o.host ?? '127.0.0.1';
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
  const takeIntoIngest = (client: Client | null, packet: PublishPacket, callback: (err?: Error | null) => void) => {
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

  const broker = await Aedes.createBroker({ id: 'vigie-embedded', persistence: persistence as never, authorizePublish: takeIntoIngest });
  // The guard wraps the intake: a publish outside the account's topics is refused before it
  // could reach the store.
  const guard = o.auth ? installBrokerGuard(broker, { auth: o.auth, instruments: o.instruments, logger: log }) : undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  if (guard) {
    sweepTimer = setInterval(() => void guard.sweep().catch((err: unknown) => log.warn({ err }, 'revoked-credential sweep failed')), o.sweepMs ?? 30_000);
    sweepTimer.unref();
  }
  const closeBroker = () => {
    clearInterval(sweepTimer);
    return new Promise<void>((resolve) => broker.close(() => resolve())).then(() => db.close());
  };
  broker.on('clientError', (client, err) => log.debug({ clientId: client?.id, err }, 'client error'));

  const maxPacket = maxPacketBytes(o.maxPayloadBytes);
  const handle = (socket: net.Socket) => {
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
  };
  const server = net.createServer(handle);
  let tlsServer: tls.Server | undefined;
  let actual: number;
  let tlsPort: number | undefined;
  try {
    actual = await listen(server, port, host, () => new VigieError('VIGIE_ERR_MQTT_PORT_IN_USE', `port ${port} is already in use, so the embedded MQTT broker cannot listen: set VIGIE_MQTT_PORT to a free port, or set MQTT_URL to use the broker that is there`));
    if (o.tls) {
      const t = o.tls;
      let secure: tls.TlsOptions;
      try {
        secure = { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile), ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}) };
      } catch (err) {
        throw new VigieError('VIGIE_ERR_MQTT_TLS', `cannot read the embedded broker's TLS files (VIGIE_MQTT_TLS_CERT, VIGIE_MQTT_TLS_KEY, VIGIE_MQTT_TLS_CA): ${(err as Error).message}`, { cause: err });
      }
      // Client certificates are asked for, not required: a device without one still logs in
      // with a password; one that presents a certificate the CA did not sign is not authorized
      // by it (services/embedded/broker-guard.ts reads `authorized`).
      tlsServer = tls.createServer({ ...secure, requestCert: Boolean(t.caFile), rejectUnauthorized: false }, handle);
      tlsPort = await listen(tlsServer, t.port, t.host, () => new VigieError('VIGIE_ERR_MQTT_PORT_IN_USE', `port ${t.port} is already in use, so the embedded broker's TLS listener cannot listen: set VIGIE_MQTT_TLS_PORT to a free port`));
    }
  } catch (err) {
    await closeServer(server);
    if (tlsServer) await closeServer(tlsServer);
    await closeBroker();
    throw err;
  }
  log.info({ host, port: actual, tlsPort, maxPacketBytes: maxPacket, auth: o.auth ? o.auth.mode : 'none' }, 'embedded MQTT broker listening');
  return {
    host,
    port: actual,
    url: `mqtt://${localHost(host)}:${actual}`,
    tlsPort,
    guard,
    attachIntake(i) {
      intake = i;
      intakeAttached();
    },
    close: async () => {
      // Stop accepting first; the servers' close completes once aedes has closed its clients.
      const closed = Promise.all([closeServer(server), tlsServer ? closeServer(tlsServer) : Promise.resolve()]);
      await closeBroker();
      await closed;
    },
  };
}
