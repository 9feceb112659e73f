/**
 * The embedded default broker: aedes on a TCP port, so devices connect to it exactly as to
 * Mosquitto. Vigie's own ingest connects to it over loopback like any client, which keeps one
 * code path for both deployments. Sessions, subscriptions and queued QoS 1 messages are kept
 * in a LevelDB store under the data directory (aedes-persistence-level), so messages the
 * ingest had not acknowledged when Vigie stopped or crashed are redelivered after restart.
 */
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Aedes } from 'aedes';
import levelPersistence from 'aedes-persistence-level';
import { Level } from 'level';
import type { Logger } from 'pino';
import { VigieError } from '../errors.ts';

export interface EmbeddedBrokerHandle {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(port: number, dataDir: string, logger: Logger, host = '0.0.0.0'): Promise<EmbeddedBrokerHandle> {
  const log = logger.child({ component: 'embedded-broker' });
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
  const closeBroker = () => new Promise<void>((resolve) => broker.close(() => resolve())).then(() => db.close());
  const server = net.createServer(broker.handle);
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
  log.info({ port: actual }, 'embedded MQTT broker listening');
  return {
    port: actual,
    url: `mqtt://127.0.0.1:${actual}`,
    close: async () => {
      // Stop accepting first; the server's close completes once aedes has closed its clients.
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await closeBroker();
      await serverClosed;
    },
  };
}
