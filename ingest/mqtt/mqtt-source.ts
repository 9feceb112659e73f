/**
 * The MQTT intake: a persistent session (fixed client id, clean session off) subscribed at
 * QoS 1, optionally through an MQTT 5 shared subscription so several ingest processes split
 * the load. Each message is handed on with an `ack` that releases its PUBACK; intake pauses
 * while the consumer says it has no capacity (bounded in-flight messages).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { InboundMessage } from '../decoder.ts';
import { installPubackGate, type Delivery } from './deferred-puback.ts';

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
  /** Filters subscribed later with `subscribe` by one member only (unsubscribed at start). */
  exclusiveFilters?: string[];
  /** Upper bound of unacknowledged deliveries the broker may send (MQTT 5 Receive Maximum). */
  receiveMaximum: number;
  /** MQTT keep alive in seconds (default 30). */
  keepaliveSeconds?: number;
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
    const keepaliveSeconds = o.keepaliveSeconds ?? 30;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      clean: o.subscribe === false,
      protocolVersion: o.protocolVersion,
      username: o.username,
      password: o.password,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: keepaliveSeconds,
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

    let livenessNoticedAt = 0;
    client.handleMessage = (packet, callback) => {
      // Shutting down: neither take nor acknowledge; the broker redelivers it to the next run.
      if (this.stopping) return;
      let delivery: Delivery | null = null;
      if (packet.qos === 1 && packet.messageId !== undefined) {
        delivery = gate.receive(packet.messageId);
        // Read after its connection closed: the broker sends it again on the next one.
        if (!delivery) return callback();
      }
      // A PUBLISH proves the broker alive as well as a PINGRESP does. Under a backlog the
      // PINGRESP waits behind thousands of PUBLISH packets and mqtt.js would end a healthy
      // connection ("Keepalive timeout"), making the broker resend all it had in flight.
      const now = Date.now();
      if (now - livenessNoticedAt > 1000) {
        livenessNoticedAt = now;
        client.reschedulePing(true);
      }
      const receivedAt = new Date();
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const topic = strip(packet.topic);
      consumer.onReceived?.();
      consumer.accept({ topic, payload, receivedAt }, () => {
        if (delivery) gate.release(delivery);
      });
      // Bounded in-flight: while the consumer is full, stop reading the socket; TCP and the
      // broker's queue hold the rest.
      if (consumer.hasCapacity()) return callback();
      const stopKeepingAlive = keepAliveWhilePaused(client, keepaliveSeconds * 1000);
      void consumer.waitForCapacity().then(() => {
        stopKeepingAlive();
        callback();
      });
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
    if (filters.length > 0) {
      await client.subscribeAsync(filters.map((f) => f), { qos: 1 });
      o.logger.info({ filters }, 'MQTT subscribed');
    }
    // Filters this member takes only while it holds their role: a persistent session may still
    // carry them from a previous run that held it.
    if (o.exclusiveFilters?.length) await this.unsubscribe(o.exclusiveFilters);
  }

  /**
   * Subscribes filters for this member alone (no shared group): every message on them comes
   * here, for as long as it holds them (a role such as the Sparkplug host). Prefix added.
   */
  async subscribe(filters: string[]): Promise<void> {
    if (!this.client || filters.length === 0 || this.options.subscribe === false) return;
    const full = filters.map((f) => `${this.options.topicPrefix}${f}`);
    await this.client.subscribeAsync(full, { qos: 1 });
    this.options.logger.info({ filters: full }, 'MQTT subscribed (this member only)');
  }

  async unsubscribe(filters: string[]): Promise<void> {
    if (!this.client || filters.length === 0 || this.options.subscribe === false) return;
    await this.client.unsubscribeAsync(filters.map((f) => `${this.options.topicPrefix}${f}`));
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

/**
 * While intake is paused nothing is read, PINGRESP included, yet the connection is healthy:
 * ping the broker (it needs a packet within 1.5 keep alive periods, MQTT 3.1.1 §3.1.2.10) and
 * hold off mqtt.js's own timeout. A dead connection is found once reading resumes, which the
 * commits bring about whatever the broker does.
 */
function keepAliveWhilePaused(client: MqttClient, keepaliveMs: number): () => void {
  const timer = setInterval(() => {
    if (!client.connected) return;
    client.sendPing();
    client.reschedulePing(true);
  }, Math.max(500, keepaliveMs / 2));
  timer.unref();
  return () => clearInterval(timer);
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
