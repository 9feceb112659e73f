/**
 * Wires the ingest path: MQTT source -> processMessage (decode + normalize) -> running sink
 * -> PostgreSQL, with acks released after commit.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { InboundMessage } from '../ingest/decoder.ts';
import { DecoderRegistry } from '../ingest/decoders/registry.ts';
import { MqttSource } from '../ingest/mqtt/mqtt-source.ts';
import { processMessage, type ProcessOptions } from '../ingest/process-message.ts';
import { RunningSink, type Batch } from '../ingest/running-sink.ts';
import type { TopicRoute } from '../ingest/topic-routes.ts';
import { NATIVE_TOPIC_PATTERN } from '../schemas/index.ts';
import type { Config } from './config.ts';
import type { DeviceRegistry } from './registry.ts';
import { isContentError } from './store/pool.ts';
import type { PlatformTelemetry } from './telemetry.ts';
import { writeBatch } from './store/write-batch.ts';

/** Default topic routes; later wire formats add theirs here (first match wins). */
export const DEFAULT_ROUTES: TopicRoute[] = [{ filter: NATIVE_TOPIC_PATTERN, decoder: 'native' }];

export interface IngestRuntime {
  source: MqttSource;
  sink: RunningSink;
  processOptions: ProcessOptions;
  /** Runs a message through the same path as MQTT (used by HTTP intakes and replays). */
  submit(message: InboundMessage): Promise<void>;
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
}

export async function startIngest(o: IngestRuntimeOptions): Promise<IngestRuntime> {
  const { config, logger, telemetry } = o;
  const routes = o.routes ?? DEFAULT_ROUTES;
  const processOptions: ProcessOptions = {
    routes,
    decoders: o.decoders ?? new DecoderRegistry(),
    policy: { maxFutureMs: config.ingest.maxFutureMs, maxAgeMs: config.ingest.maxAgeMs },
    maxPayloadBytes: config.ingest.maxPayloadBytes,
    deadLetterMaxBytes: config.ingest.deadLetterMaxBytes,
    context: { device: (id) => o.registry.get(id) },
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
    filters: [...new Set(routes.map((r) => r.filter))],
    topicPrefix: config.mqtt.topicPrefix,
    sharedGroup: config.mqtt.sharedGroup,
    receiveMaximum: config.ingest.maxInflight,
    logger: logger.child({ component: 'mqtt' }),
  });
  const accept = (message: InboundMessage, ack: () => void) => {
    let processed;
    try {
      processed = processMessage(message, processOptions);
    } catch (err) {
      // processMessage guards decoders; this is a bug in Vigie itself. Keep the message
      // unacknowledged (the broker redelivers it) rather than lose it.
      logger.error({ err, topic: message.topic }, 'message processing failed');
      return;
    }
    sink.push(processed, message, ack);
  };
  await source.start({
    accept,
    hasCapacity: () => sink.hasCapacity(),
    waitForCapacity: () => sink.waitForCapacity(),
    onReceived: () => telemetry.ingest.messagesReceived.inc(),
  });
  return {
    source,
    sink,
    processOptions,
    async submit(message) {
      await sink.waitForCapacity();
      telemetry.ingest.messagesReceived.inc();
      await new Promise<void>((resolve) => accept(message, resolve));
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
