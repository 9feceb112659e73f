/** Broker options shared by simulate, record and replay: one place, as the simulator's connection.ts. */
import type { Command } from 'commander';
import { connectionFromEnv, type BrokerConnection } from '../../simulators/fleet/connection.ts';

export interface BrokerFlags {
  url?: string;
  username?: string;
  password?: string;
  clientId?: string;
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
}

export function withBrokerOptions(c: Command): Command {
  return c
    .option('-u, --url <url>', 'broker URL (env MQTT_URL, default mqtt://127.0.0.1:1883)')
    .option('--username <name>', 'broker user name (env MQTT_USERNAME)')
    .option('--password <secret>', 'broker password (env MQTT_PASSWORD; prefer the environment, flags show in ps)')
    .option('--client-id <id>', 'client id prefix (each session adds a suffix)')
    .option('--ca <file>', 'PEM CA bundle for mqtts://')
    .option('--cert <file>', 'PEM client certificate')
    .option('--key <file>', 'PEM client key')
    .option('--insecure', 'accept a server certificate that does not verify (test brokers only)');
}

export const brokerFrom = (o: BrokerFlags): BrokerConnection => connectionFromEnv(process.env, o);

export function fail(message: string): never {
  process.stderr.write(`vigie: ${message}\n`);
  process.exit(2);
}

/** `--speed 60`, `--speed max`. */
export function parseSpeed(text: string | undefined, def: number): number {
  if (text === undefined) return def;
  if (text === 'max') return Infinity;
  const n = Number(text.replace(/^x/, ''));
  if (!(n > 0)) fail(`--speed: expected a positive number or "max", got ${text}`);
  return n;
}
