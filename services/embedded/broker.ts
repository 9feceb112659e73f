/**
 * The embedded default broker: aedes on a TCP port, so devices connect to it exactly as to
 * Mosquitto. Vigie's own ingest connects to it over loopback like any client, which keeps one
 * code path for both deployments. Sessions, subscriptions and queued QoS 1 messages are kept
 * in a LevelDB store under the data directory (aedes-persistence-level), so messages the
 * ingest had not acknowledged when Vigie stopped or crashed are redelivered after restart.
 * With a guard (services/embedded/broker-guard.ts) every client authenticates and stays
 * inside its topics; with certificates, a TLS listener (mqtts) runs beside the plain one.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import levelPersistence from 'aedes-persistence-level';
import { Level } from 'level';
import type { Logger } from 'pino';
import type { BrokerAuthenticator } from '../broker-auth/authenticator.ts';
import type { BrokerInstruments } from '../broker-auth/instruments.ts';
import { VigieError } from '../errors.ts';
import { installBrokerGuard, type BrokerGuard } from './broker-guard.ts';

export interface EmbeddedBrokerTls {
  port: number;
  host: string;
  certFile: string;
  keyFile: string;
  /** CA of client certificates: set, clients may authenticate with a certificate (CN = device id). */
  caFile?: string;
}

export interface EmbeddedBrokerOptions {
  /** Listen address of the plain listener (VIGIE_MQTT_HOST). */
  host?: string;
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
  close(): Promise<void>;
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

export async function startEmbeddedBroker(port: number, dataDir: string, logger: Logger, options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBrokerHandle> {
  const log = logger.child({ component: 'embedded-broker' });
  const host = options.host ?? '127.0.0.1';
  const db = new Level<string, unknown>(path.join(dataDir, 'mqtt'));
  await db.open();
  const persistence = levelPersistence(db as never) as { createRetainedStreamCombi(patterns: string[]): Readable };
  // aedes pipes this stream without an error listener (lib/handlers/subscribe.js): a SUBSCRIBE
  // still fetching retained messages while the broker shuts down would crash the process with
  // LEVEL_DATABASE_NOT_OPEN. The subscriber is gone by then; end its stream quietly.
  const createRetained = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) =>
    createRetained(patterns).on('error', (err: Error) => log.debug({ err }, 'retained-message lookup ended by shutdown'));
  const broker = await Aedes.createBroker({ id: 'vigie-embedded', persistence });
  const guard = options.auth ? installBrokerGuard(broker, { auth: options.auth, instruments: options.instruments, logger: log }) : undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  if (guard) {
    sweepTimer = setInterval(() => void guard.sweep().catch((err: unknown) => log.warn({ err }, 'revoked-credential sweep failed')), options.sweepMs ?? 30_000);
    sweepTimer.unref();
  }
  const closeBroker = () => {
    clearInterval(sweepTimer);
    return new Promise<void>((resolve) => broker.close(() => resolve())).then(() => db.close());
  };
  broker.on('clientError', (client, err) => log.debug({ clientId: client?.id, err }, 'client error'));

  const server = net.createServer(broker.handle);
  let tlsServer: tls.Server | undefined;
  let actual: number;
  let tlsPort: number | undefined;
  try {
    actual = await listen(server, port, host, () => new VigieError('VIGIE_ERR_MQTT_PORT_IN_USE', `port ${port} is already in use, so the embedded MQTT broker cannot listen: set VIGIE_MQTT_PORT to a free port, or set MQTT_URL to use the broker that is there`));
    if (options.tls) {
      const t = options.tls;
      let secure: tls.TlsOptions;
      try {
        secure = { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile), ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}) };
      } catch (err) {
        throw new VigieError('VIGIE_ERR_MQTT_TLS', `cannot read the embedded broker's TLS files (VIGIE_MQTT_TLS_CERT, VIGIE_MQTT_TLS_KEY, VIGIE_MQTT_TLS_CA): ${(err as Error).message}`, { cause: err });
      }
      // Client certificates are asked for, not required: a device without one still logs in
      // with a password; one that presents a certificate the CA did not sign is not authorized
      // by it (services/embedded/broker-guard.ts reads `authorized`).
      tlsServer = tls.createServer({ ...secure, requestCert: Boolean(t.caFile), rejectUnauthorized: false }, broker.handle);
      tlsPort = await listen(tlsServer, t.port, t.host, () => new VigieError('VIGIE_ERR_MQTT_PORT_IN_USE', `port ${t.port} is already in use, so the embedded broker's TLS listener cannot listen: set VIGIE_MQTT_TLS_PORT to a free port`));
    }
  } catch (err) {
    await closeServer(server);
    if (tlsServer) await closeServer(tlsServer);
    await closeBroker();
    throw err;
  }
  log.info({ host, port: actual, tlsPort, auth: options.auth ? options.auth.mode : 'none' }, 'embedded MQTT broker listening');
  return {
    host,
    port: actual,
    url: `mqtt://${localHost(host)}:${actual}`,
    tlsPort,
    guard,
    close: async () => {
      // Stop accepting first; the servers' close completes once aedes has closed its clients.
      const closed = Promise.all([closeServer(server), tlsServer ? closeServer(tlsServer) : Promise.resolve()]);
      await closeBroker();
      await closed;
    },
  };
}
