/**
 * Wires the ingest path: MQTT source -> processMessage (decode + normalize) -> running sink
 * -> PostgreSQL, with acks released after commit.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { DecoderState, InboundMessage } from '../ingest/decoder.ts';
import { DEFAULT_ROUTES as FORMAT_ROUTES } from '../ingest/default-routes.ts';
import { builtinDecoders, DecoderRegistry } from '../ingest/decoders/registry.ts';
import { MqttSource } from '../ingest/mqtt/mqtt-source.ts';
import { processMessage, type ProcessedMessage, type ProcessOptions } from '../ingest/process-message.ts';
import { RunningSink, type Batch } from '../ingest/running-sink.ts';
import { topicMatches, type TopicRoute } from '../ingest/topic-routes.ts';
import type { DeviceProfile } from '../schemas/index.ts';
import type { Config } from './config.ts';
import type { BrokerIntake } from './embedded/broker.ts';
import { ConfigError } from './config.ts';
import { loadProfiles } from './formats/profiles.ts';
import type { DeviceRegistry } from './registry.ts';
import { isContentError } from './store/pool.ts';
import type { PlatformTelemetry } from './telemetry.ts';
import { writeBatch } from './store/write-batch.ts';

/** Default topic routes of every wire format (first match wins); see ingest/default-routes.ts. */
export const DEFAULT_ROUTES: TopicRoute[] = FORMAT_ROUTES;

export interface IngestRuntime {
  source: MqttSource;
  sink: RunningSink;
  processOptions: ProcessOptions;
  /** Device profiles in use (built-in plus VIGIE_PROFILES_DIR). */
  profiles: Map<string, DeviceProfile>;
  /** Runs a message through the same path as MQTT (used by HTTP intakes); resolves once committed. */
  submit(message: InboundMessage): Promise<ProcessedMessage>;
  /** The in-process intake of the embedded broker (PUBACK after commit); see embedded/broker.ts. */
  brokerIntake: BrokerIntake;
  stop(timeoutMs: number): Promise<void>;
  destroy(): Promise<void>;
}

export interface IngestRuntimeOptions {
  config: Config;
  mqttUrl: string;
  protocolVersion: 4 | 5;
  pool: pg.Pool;
  registry: DeviceRegistry;
  telemetry: PlatformTelemetry;
  logger: Logger;
  routes?: TopicRoute[];
  decoders?: DecoderRegistry;
  onCommitted?: (batch: Batch) => void;
  /** False with the embedded broker, which hands messages over through `brokerIntake` instead. */
  subscribe?: boolean;
}

export async function startIngest(o: IngestRuntimeOptions): Promise<IngestRuntime> {
  const { config, logger, telemetry } = o;
  const routes = o.routes ?? config.formats.routes;
  const decoders = o.decoders ?? new DecoderRegistry(builtinDecoders(config.formats.decoderOptions));
  for (const r of routes) {
    if (!decoders.get(r.decoder)) throw new ConfigError(`route ${r.filter} names decoder ${r.decoder}; known decoders: ${decoders.names().join(', ')}`);
  }
  const profiles = loadProfiles(config.formats.profilesDir);
  for (const d of o.registry.devices) {
    if (d.profile && !profiles.has(d.profile)) logger.warn({ deviceId: d.id, profile: d.profile }, 'device names a profile that is not loaded; the default profile applies');
  }
  // Decoder state (Sparkplug alias tables) lives as long as this process, like the MQTT session.
  const states = new Map<string, DecoderState>();
  const processOptions: ProcessOptions = {
    routes,
    decoders,
    policy: { maxFutureMs: config.ingest.maxFutureMs, maxAgeMs: config.ingest.maxAgeMs },
    maxPayloadBytes: config.ingest.maxPayloadBytes,
    deadLetterMaxBytes: config.ingest.deadLetterMaxBytes,
    context: {
      device: (id) => o.registry.get(id),
      profile: (name) => profiles.get(name),
      state: (decoder) => {
        let st = states.get(decoder);
        if (!st) states.set(decoder, (st = new Map()));
        return st;
      },
    },
  };
  const sink = new RunningSink({
    sink: { write: (batch) => writeBatch(o.pool, batch), isContentError },
    maxBatchItems: config.ingest.batchSize,
    maxBatchDelayMs: config.ingest.batchMs,
    maxInflightMessages: config.ingest.maxInflight,
    maxConcurrentCommits: config.ingest.concurrentCommits,
    retryMinMs: config.ingest.retryMinMs,
    retryMaxMs: config.ingest.retryMaxMs,
    deadLetterMaxBytes: config.ingest.deadLetterMaxBytes,
    logger: logger.child({ component: 'running-sink' }),
    instruments: telemetry.ingest,
    onCommitted: o.onCommitted,
  });
  const source = new MqttSource({
    url: o.mqttUrl,
    clientId: config.mqtt.clientId,
    username: config.mqtt.username,
    password: config.mqtt.password,
    protocolVersion: o.protocolVersion,
    filters: [...new Set(routes.filter((r) => r.source !== 'http').map((r) => r.filter))],
    topicPrefix: config.mqtt.topicPrefix,
    sharedGroup: config.mqtt.sharedGroup,
    subscribe: o.subscribe,
    receiveMaximum: config.ingest.maxInflight,
    logger: logger.child({ component: 'mqtt' }),
  });
  const mqttLog = logger.child({ component: 'commands' });
  const accept = (message: InboundMessage, ack: () => void): ProcessedMessage | undefined => {
    let processed;
    try {
      processed = processMessage(message, processOptions);
    } catch (err) {
      // processMessage guards decoders; this is a bug in Vigie itself. Keep the message
      // unacknowledged (the broker redelivers it) rather than lose it.
      logger.error({ err, topic: message.topic }, 'message processing failed');
      return undefined;
    }
    // Answers the decoder asked for (Sparkplug rebirth requests) leave at once: they carry no
    // data, and waiting for the commit would only delay the node's BIRTH.
    for (const c of processed.commands ?? []) {
      mqttLog.info({ topic: c.topic, reason: c.reason }, 'publishing command');
      source.publish(c.topic, c.payload, { qos: c.qos }).catch((err: unknown) => mqttLog.warn({ err, topic: c.topic }, 'command publish failed'));
    }
    sink.push(processed, message, ack);
    return processed;
  };
  await source.start({
    accept,
    hasCapacity: () => sink.hasCapacity(),
    waitForCapacity: () => sink.waitForCapacity(),
    onReceived: () => telemetry.ingest.messagesReceived.inc(),
  });
  const submit = async (message: InboundMessage): Promise<ProcessedMessage> => {
    await sink.waitForCapacity();
    telemetry.ingest.messagesReceived.inc();
    let processed: ProcessedMessage | undefined;
    await new Promise<void>((resolve, reject) => {
      processed = accept(message, resolve);
      if (!processed) reject(new Error(`message on ${message.topic} could not be processed`));
    });
    return processed!;
  };
  const prefix = config.mqtt.topicPrefix;
  const mqttFilters = [...new Set(routes.filter((r) => r.source !== 'http').map((r) => r.filter))];
  return {
    source,
    sink,
    processOptions,
    profiles,
    submit,
    brokerIntake: {
      accepts: (topic) => topic.startsWith(prefix) && mqttFilters.some((f) => topicMatches(f, topic.slice(prefix.length))),
      submit: async (topic, payload) => {
        await submit({ topic: topic.slice(prefix.length), payload, receivedAt: new Date() });
      },
    },
    async stop(timeoutMs) {
      source.pause();
      let timer: NodeJS.Timeout | undefined;
      const flushed = await Promise.race([
        sink.close().then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (!flushed) {
        logger.warn({ inflight: sink.inflight }, 'shutdown timeout: unacknowledged messages stay with the broker');
        sink.destroy();
      }
      await source.close(!flushed);
    },
    async destroy() {
      sink.destroy();
      await source.close(true);
    },
  };
}
