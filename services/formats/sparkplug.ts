/**
 * The Sparkplug B parts that need time and the platform: the Reorder Timeout timer and the
 * counters of what the decoder deliberately does not store.
 *
 * The decoder (ingest/decoders/sparkplug-b) is pure: a seq gap opens a reorder window in its
 * state, the message that fills it closes it, and the first message after the deadline expires
 * it. A node that falls silent after a gap sends no such message, so this timer expires its
 * window (Eclipse Sparkplug 3.0.0 §5.9 "Sparkplug Host Application Message Ordering",
 * tck-id-operational-behavior-host-reordering-rebirth): the rebirth request is published and the
 * `sequence_error` dead letter is committed through the running sink, with the message that
 * revealed the gap.
 */
import client from 'prom-client';
import type { Logger } from 'pino';
import { counts, expireSparkplugReorder, sparkplugOptionsSchema, type SparkplugOptions } from '../../ingest/decoders/sparkplug-b/index.ts';
import { deadLetterOf } from '../../ingest/process-message.ts';
import type { IngestRuntime } from '../ingest-runtime.ts';

export interface SparkplugTimerOptions {
  ingest: IngestRuntime;
  logger: Logger;
  decoderOptions: SparkplugOptions;
  deadLetterMaxBytes: number;
  registry: client.Registry;
}

/** Starts the reorder timer (when a Reorder Timeout is set) and registers the counters; returns the stop function. */
export function startSparkplugSupport(o: SparkplugTimerOptions): () => void {
  const states = () => o.ingest.processOptions.context.state('sparkplug-b');
  registerCounters(o.registry, states);
  const timeout = sparkplugOptionsSchema.parse(o.decoderOptions).reorderTimeoutMs;
  if (timeout === 0) return () => {};
  // A quarter of the timeout (at least 50 ms, at most 1 s): a window expires at most that late.
  const every = Math.min(1000, Math.max(50, Math.floor(timeout / 4)));
  const log = o.logger.child({ component: 'sparkplug' });
  const timer = setInterval(() => {
    for (const w of expireSparkplugReorder(states(), new Date(), o.decoderOptions)) {
      for (const c of w.commands) {
        log.info({ topic: c.topic, reason: c.reason }, 'publishing command');
        o.ingest.source.publish(c.topic, c.payload, { qos: c.qos }).catch((err: unknown) => log.warn({ err, topic: c.topic }, 'command publish failed'));
      }
      const message = { topic: w.topic, payload: w.payload, receivedAt: w.receivedAt };
      const dead = deadLetterOf(message, 'sparkplug-b', w.deviceId, w.reject, o.deadLetterMaxBytes);
      try {
        o.ingest.sink.push({ observations: [], deadLetters: [dead], deviceId: w.deviceId }, message, () => {});
      } catch (err) {
        // The sink closes at shutdown before the modules stop: the gap is then only logged.
        log.warn({ err, topic: w.topic, reason: w.reject.reason }, 'reorder timeout dead letter not recorded (ingest stopped)');
      }
    }
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}

function registerCounters(registry: client.Registry, states: () => Map<string, unknown>): void {
  const read = (prefix: string) => [...counts(states()).entries()].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v] as const);
  new client.Counter({
    name: 'vigie_sparkplug_metrics_omitted_total',
    help: 'Sparkplug B metrics deliberately not stored, by reason (is_transient, control, is_null, datatype <name>): see ingest/decoders/sparkplug-b/README.md',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of read('omitted:')) this.inc({ reason }, n);
    },
  });
  new client.Counter({
    name: 'vigie_sparkplug_reorder_gaps_total',
    help: 'Sparkplug B seq gaps, by outcome: filled within the reorder timeout, or expired (rebirth requested)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of read('reorder:')) this.inc({ outcome }, n);
    },
  });
}
