/**
 * The MQTT intake: a persistent session (fixed client id, clean session off) subscribed at
 * QoS 1, optionally through an MQTT 5 shared subscription so several ingest processes split
 * the load. Each message is handed on with an `ack` that releases its PUBACK; intake pauses
 * while the consumer says it has no capacity (bounded in-flight messages).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { InboundMessage } from '../decoder.ts';
import { installPubackGate } from './deferred-puback.ts';

export interface MqttSourceOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** MQTT protocol version: 4 (3.1.1) or 5. */
  protocolVersion: 4 | 5;
  /** Topic filters, without the deployment prefix. */
  filters: string[];
  /** Prefix put before every filter and removed from every received topic (test isolation, multi-tenant brokers). */
  topicPrefix: string;
  /** False: a clean session that subscribes to nothing (the embedded broker hands messages over in-process). */
  subscribe?: boolean;
  /** MQTT 5 / Mosquitto shared subscription group. */
  sharedGroup?: string;
  /** Upper bound of unacknowledged deliveries the broker may send (MQTT 5 Receive Maximum). */
  receiveMaximum: number;
  logger: Logger;
}

export interface MessageConsumer {
  /** Takes one message; `ack` must be called once it is durably stored. */
  accept(message: InboundMessage, ack: () => void): void;
  hasCapacity(): boolean;
  waitForCapacity(): Promise<void>;
  onReceived?(): void;
}

export class MqttSource {
  private client: MqttClient | null = null;
  private stopping = false;

  constructor(private readonly options: MqttSourceOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(consumer: MessageConsumer): Promise<void> {
    const o = this.options;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      clean: o.subscribe === false,
      protocolVersion: o.protocolVersion,
      username: o.username,
      password: o.password,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: true,
    };
    if (o.protocolVersion === 5) {
      // Keep the session (and the broker's queue) across restarts: MQTT 5 §3.1.2.11.2.
      clientOptions.properties = { sessionExpiryInterval: 0xffffffff, receiveMaximum: Math.min(o.receiveMaximum, 65535) };
    }
    const client = mqtt.connect(o.url, { ...clientOptions, manualConnect: true });
    this.client = client;
    const gate = installPubackGate(client);
    const prefix = o.topicPrefix;
    const strip = (topic: string) => (prefix && topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);

    client.handleMessage = (packet, callback) => {
      // Shutting down: neither take nor acknowledge; the broker redelivers it to the next run.
      if (this.stopping) return;
      const receivedAt = new Date();
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const topic = strip(packet.topic);
      const qos = packet.qos;
      const messageId = packet.messageId;
      const generation = gate.generation;
      consumer.onReceived?.();
      consumer.accept({ topic, payload, receivedAt }, () => {
        if (qos === 1 && messageId !== undefined) gate.release(messageId, generation);
      });
      // Bounded in-flight: while the consumer is full, stop reading the socket; TCP and the
      // broker's queue hold the rest.
      if (consumer.hasCapacity()) callback();
      else void consumer.waitForCapacity().then(() => callback());
    };

    client.on('error', (err) => o.logger.error({ err }, 'MQTT client error'));
    client.on('reconnect', () => o.logger.warn({ url: redact(o.url) }, 'MQTT reconnecting'));
    client.on('offline', () => o.logger.warn('MQTT offline'));

    await new Promise<void>((resolve, reject) => {
      const onConnect = async (connack: { sessionPresent: boolean }) => {
        client.off('error', onError);
        o.logger.info({ url: redact(o.url), clientId: o.clientId, sessionPresent: connack.sessionPresent }, 'MQTT connected');
        resolve();
      };
      const onError = (err: Error) => {
        client.off('connect', onConnect);
        reject(err);
      };
      client.once('connect', onConnect);
      client.once('error', onError);
      client.connect();
    });

    if (o.subscribe === false) return;
    const filters = o.filters.map((f) => (o.sharedGroup ? `$share/${o.sharedGroup}/${prefix}${f}` : `${prefix}${f}`));
    await client.subscribeAsync(filters.map((f) => f), { qos: 1 });
    o.logger.info({ filters }, 'MQTT subscribed');
  }

  /**
   * Publishes on the ingest connection (Sparkplug rebirth requests, alert events). The topic
   * gets the deployment prefix, like the subscriptions.
   */
  async publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain?: boolean } = { qos: 1 }): Promise<void> {
    if (!this.client) throw new Error('MQTT source is not started');
    await this.client.publishAsync(`${this.options.topicPrefix}${topic}`, payload, options);
  }

  /** Stops intake; pending PUBACKs may still be released until `close()`. */
  pause(): void {
    this.stopping = true;
  }

  async close(force = false): Promise<void> {
    this.stopping = true;
    if (!this.client) return;
    await this.client.endAsync(force);
    this.client = null;
  }
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
