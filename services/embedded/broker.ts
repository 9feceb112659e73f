/**
 * The embedded default broker: aedes on a TCP port, so devices connect to it exactly as to
 * Mosquitto. Vigie's own ingest connects to it over loopback like any client, which keeps one
 * code path for both deployments. Sessions live in memory (aedes-persistence): they survive
 * client reconnects, not a restart of Vigie itself; use Mosquitto for that (README).
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { VigieError } from '../errors.ts';

export interface EmbeddedBrokerHandle {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(port: number, logger: Logger, host = '0.0.0.0'): Promise<EmbeddedBrokerHandle> {
  const broker = await Aedes.createBroker({ id: 'vigie-embedded' });
  const server = net.createServer(broker.handle);
  const log = logger.child({ component: 'embedded-broker' });
  broker.on('clientError', (client, err) => log.debug({ clientId: client?.id, err }, 'client error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      broker.close();
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        broker.close();
      }),
  };
}
