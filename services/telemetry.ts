/** Prometheus instruments for the platform (served at GET /metrics). */
import client from 'prom-client';
import type { IngestInstruments } from '../ingest/instruments.ts';

export interface PlatformTelemetry {
  registry: client.Registry;
  ingest: IngestInstruments;
}

export function createTelemetry(): PlatformTelemetry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'vigie_process_' });
  const counter = (name: string, help: string) => new client.Counter({ name, help, registers: [registry] });
  return {
    registry,
    ingest: {
      messagesReceived: counter('vigie_messages_received_total', 'MQTT messages received'),
      observationsStored: counter('vigie_observations_stored_total', 'Observations committed (including idempotent duplicates ignored by the store)'),
      deadLetters: counter('vigie_dead_letters_total', 'Dead letters recorded'),
      commitFailures: counter('vigie_commit_failures_total', 'Failed commit attempts (retried)'),
      batchSize: new client.Histogram({
        name: 'vigie_batch_size',
        help: 'Rows (observations + dead letters) per commit',
        buckets: [1, 10, 50, 100, 500, 1000, 2000, 5000, 10000],
        registers: [registry],
      }),
      commitSeconds: new client.Histogram({
        name: 'vigie_commit_seconds',
        help: 'Commit latency',
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      }),
      inflightMessages: new client.Gauge({ name: 'vigie_inflight_messages', help: 'Messages received and not yet acknowledged', registers: [registry] }),
    },
  };
}
