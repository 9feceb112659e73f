/** Prometheus instruments of the alerting engine (served with the platform's at GET /metrics). */
import client from 'prom-client';
import type { EngineInstruments } from './engine.ts';

export function createAlertingInstruments(registry: client.Registry): EngineInstruments {
  return {
    evaluations: new client.Counter({ name: 'vigie_alert_evaluations_total', help: 'Rule evaluations (rule x device x channel x observed time)', registers: [registry] }),
    transitions: new client.Counter({ name: 'vigie_alert_transitions_total', help: 'Alert transitions by kind', labelNames: ['kind'], registers: [registry] }),
    stepSeconds: new client.Histogram({
      name: 'vigie_alert_step_seconds',
      help: 'From an ingest commit to the end of its evaluation (transitions persisted, events emitted)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    lateObservations: new client.Counter({ name: 'vigie_alert_late_observations_total', help: 'Observations older than their key\'s last evaluation (stored, not evaluated live)', registers: [registry] }),
    historicalObservations: new client.Counter({ name: 'vigie_alert_historical_observations_total', help: 'Observations older than VIGIE_ALERT_MAX_LAG_SECONDS on arrival (backfill: no live alert)', registers: [registry] }),
  };
}
