/**
 * What the ingest path reports about itself. The composition root backs these with
 * Prometheus metrics; tests can back them with plain counters.
 */
export interface Counter {
  inc(value?: number): void;
}
export interface Histogram {
  observe(value: number): void;
}
export interface Gauge {
  set(value: number): void;
}

export interface IngestInstruments {
  messagesReceived: Counter;
  observationsStored: Counter;
  deadLetters: Counter;
  batchSize: Histogram;
  commitSeconds: Histogram;
  commitFailures: Counter;
  inflightMessages: Gauge;
}

const noopCounter: Counter = { inc() {} };
export const noopInstruments: IngestInstruments = {
  messagesReceived: noopCounter,
  observationsStored: noopCounter,
  deadLetters: noopCounter,
  batchSize: { observe() {} },
  commitSeconds: { observe() {} },
  commitFailures: noopCounter,
  inflightMessages: { set() {} },
};
