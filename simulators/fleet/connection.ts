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

export function clientOptions(c: BrokerConnection, suffix: string, extra: IClientOptions = {}): IClientOptions {
  const id = `${c.clientId ?? 'vigie-sim'}-${suffix}`;
  return {
    clientId: id.length > 23 ? `${id.slice(0, 14)}${id.slice(-9)}` : id,
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
