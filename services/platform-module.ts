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
import type { PgBus } from './cluster/bus.ts';
import type { CommitEntry } from './cluster/commit-log.ts';
import type { FeedHub } from './cluster/feed-hub.ts';
import type { Singleton } from './cluster/keys.ts';
import type { RoleHandler } from './cluster/leases.ts';
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
  /** LISTEN/NOTIFY of this process (services/cluster/bus.ts). */
  bus: PgBus;
  /** Every commit of every process, as this process reads them from the commit feed. */
  commits: FeedHub<CommitEntry>;
  /** This process's name in the cluster (host:pid:random). */
  member: string;
  /** The shared Server-Sent Events registry (caps span every stream). */
  sse: SseHub;
}

export interface PlatformModule {
  name: string;
  /** Fastify plugin with the module's routes (registered at the root; use /api/v1/... paths). */
  routes?: (app: FastifyInstance) => Promise<void>;
  /** Called after each committed ingest batch; must not throw or block (queue work instead). */
  onCommitted?: (batch: Batch) => void;
  /**
   * Singleton roles this module runs while this process holds their lease (see
   * services/cluster/leases.ts); started and stopped by the platform, never by the module.
   */
  singletons?: Partial<Record<Singleton, RoleHandler>>;
  /** Graceful stop, called before the pool closes (after the singletons are stopped). */
  stop?: () => Promise<void>;
}

export type ModuleFactory = (ctx: ModuleContext) => Promise<PlatformModule>;
