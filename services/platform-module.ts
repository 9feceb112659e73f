/**
 * How a capability (alerting, wire formats with state, time-series features, mirrors) plugs
 * into the platform without the composition root growing a branch per feature: it receives
 * the shared parts and returns routes, commit listeners and a stop function.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Batch } from '../ingest/running-sink.ts';
import type { SseHub } from './api/sse.ts';
import type { Config } from './config.ts';
import type { IngestRuntime } from './ingest-runtime.ts';
import type { DeviceRegistry } from './registry.ts';
import type { PlatformTelemetry } from './telemetry.ts';

export interface ModuleContext {
  config: Config;
  logger: Logger;
  pool: pg.Pool;
  registry: DeviceRegistry;
  telemetry: PlatformTelemetry;
  /** True when observations is a TimescaleDB hypertable. */
  timescale: boolean;
  /** The running ingest (publish on its MQTT connection, submit messages from HTTP). */
  ingest: IngestRuntime;
  /** The shared Server-Sent Events registry (caps span every stream). */
  sse: SseHub;
}

export interface PlatformModule {
  name: string;
  /** Fastify plugin with the module's routes (registered at the root; use /api/v1/... paths). */
  routes?: (app: FastifyInstance) => Promise<void>;
  /** Called after each committed ingest batch; must not throw or block (queue work instead). */
  onCommitted?: (batch: Batch) => void;
  /** Graceful stop, called before the pool closes. */
  stop?: () => Promise<void>;
}

export type ModuleFactory = (ctx: ModuleContext) => Promise<PlatformModule>;
