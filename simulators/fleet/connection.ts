/**
 * How the simulator, the recorder and the replayer reach a broker: URL, credentials, client id
 * and TLS, in one place. The command line fills it from flags and MQTT_URL, MQTT_USERNAME,
 * MQTT_PASSWORD (a broker that requires credentials refuses an anonymous simulator).
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface BrokerConnection {
  url: string;
  username?: string;
  password?: string;
  /** Client id prefix; each session appends its own suffix (23 characters at most, MQTT 3.1.1 §3.1.3.1). */
  clientId?: string;
  /** PEM files for mqtts:// with a private CA or client certificates. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Accept a server certificate that does not verify (test brokers only). */
  insecure?: boolean;
}

export function connectionFromEnv(env: NodeJS.ProcessEnv, flags: Partial<BrokerConnection> = {}): BrokerConnection {
  return {
    url: flags.url ?? env.MQTT_URL ?? 'mqtt://127.0.0.1:1883',
    username: flags.username ?? (env.MQTT_USERNAME || undefined),
    password: flags.password ?? (env.MQTT_PASSWORD || undefined),
    clientId: flags.clientId,
    ca: flags.ca,
    cert: flags.cert,
    key: flags.key,
    insecure: flags.insecure,
  };
}

/** FNV-1a of a string, base 36: a short stable stand-in for a client id too long for MQTT 3.1.1. */
function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

export function clientOptions(c: BrokerConnection, suffix: string, extra: IClientOptions = {}): IClientOptions {
  // Not `vigie-…`: Vigie's embedded broker reserves those client ids for the platform itself.
  const prefix = c.clientId ?? 'sim';
  const id = `${prefix}-${suffix}`;
  return {
    clientId: id.length > 23 ? `${prefix.slice(0, 8)}-${shortHash(id)}-${process.pid % 100000}`.slice(0, 23) : id,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.ca ? { ca: readFileSync(c.ca) } : {}),
    ...(c.cert ? { cert: readFileSync(c.cert) } : {}),
    ...(c.key ? { key: readFileSync(c.key) } : {}),
    ...(c.insecure ? { rejectUnauthorized: false } : {}),
    ...extra,
  };
}

export function connect(c: BrokerConnection, suffix: string, extra: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(c.url, clientOptions(c, suffix, extra));
}
