/**
 * The composition root: builds every part from the parsed configuration, in dependency
 * order, and tears them down in reverse. Nothing imports this file but the CLI and tests.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import client from 'prom-client';
import type pg from 'pg';
import { buildApp } from './api/app.ts';
import { prepareAccess } from './auth/startup.ts';
import { SseHub } from './api/sse.ts';
import type { Config } from './config.ts';
import { hasActiveTokens, verifyApiToken } from './auth/index.ts';
import { startGuardedBroker, type BrokerTokens } from './broker-auth/embedded.ts';
import type { EmbeddedBrokerHandle } from './embedded/broker.ts';
import { lockDataDir, type DataDirLock } from './embedded/data-dir-lock.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded/postgres.ts';
import { startIngest, type IngestRuntime } from './ingest-runtime.ts';
import type { Batch } from '../ingest/running-sink.ts';
import type { ModuleFactory, PlatformModule } from './platform-module.ts';
import { loadRegistry } from './registry.ts';
import { syncRegistry } from './store/devices.ts';
import { migrate } from './store/migrate.ts';
import { createPool } from './store/pool.ts';
import { createTelemetry } from './telemetry.ts';
import { alertingModule } from './alerting/module.ts';
import { formatsModule } from './formats/module.ts';
import { influxModule } from './influx/module.ts';
import { timeseriesModule } from './timeseries/module.ts';
import { setupStorage } from './timeseries/storage.ts';
import { PgBus } from './cluster/bus.ts';
import { lastCommitSeq, readCommitLog, type CommitEntry } from './cluster/commit-log.ts';
import { FeedHub } from './cluster/feed-hub.ts';
import { CHANNEL, type Singleton } from './cluster/keys.ts';
import { LeaseManager, type RoleHandler } from './cluster/leases.ts';
import { ROLE_SINGLETONS, roleHasIntake, roleServesApi } from './cluster/roles.ts';
import { clusterRoutes } from './cluster/routes.ts';

/** Capabilities plugged into the platform, in start order (see platform-module.ts). */
const MODULES: ModuleFactory[] = [formatsModule, timeseriesModule, influxModule, alertingModule];

export interface Platform {
  config: Config;
  app: FastifyInstance;
  pool: pg.Pool;
  ingest: IngestRuntime;
  httpUrl: string;
  mqttUrl: string;
  databaseUrl: string;
  timescale: boolean;
  /** Singleton roles of this process (services/cluster/leases.ts). */
  leases: LeaseManager;
  /** The embedded broker, when MQTT_URL is unset. */
  broker?: EmbeddedBrokerHandle;
  /** Graceful: stop intake, commit and ack what is pending, close everything. */
  stop(): Promise<void>;
}

export interface PlatformOptions {
  /**
   * How the embedded broker checks an API token given as the MQTT password (an admin or
   * integration token may publish under every ingest topic). Default: the API's own tokens.
   */
  mqttTokens?: (pool: pg.Pool) => BrokerTokens;
}

export async function startPlatform(config: Config, logger: Logger, options: PlatformOptions = {}): Promise<Platform> {
  const cleanups: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const c of cleanups.reverse()) await c().catch((err) => logger.error({ err }, 'cleanup failed'));
  };
  try {
    const registry = loadRegistry(config.registryPath);
    // The embedded database and broker keep their files in the data directory: one Vigie at a time.
    let lock: DataDirLock | undefined;
    if (!config.databaseUrl || !config.mqttUrl) {
      lock = lockDataDir(config.dataDir, 'vigie start');
      cleanups.push(async () => lock!.release());
    }

    let databaseUrl = config.databaseUrl;
    let embeddedPg: EmbeddedPostgresHandle | undefined;
    if (!databaseUrl) {
      embeddedPg = await startEmbeddedPostgres(`${config.dataDir}`, config.embedded.postgresPort, logger);
      cleanups.push(() => embeddedPg!.stop());
      databaseUrl = embeddedPg.url;
    }
    const pool = createPool(databaseUrl, config.dbPoolSize);
    pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection failed'));
    cleanups.push(() => pool.end());
    let timescale = false;
    await migrate(pool, {
      logger,
      after: async (client) => {
        timescale = await setupStorage(client, config, logger, databaseUrl);
      },
    });
    const access = await prepareAccess(pool, config, logger);
    await syncRegistry(pool, registry.devices);
    logger.info({ registered: registry.devices.length }, 'device registry loaded');

    const telemetry = createTelemetry();
    let mqttUrl = config.mqttUrl;
    let broker: EmbeddedBrokerHandle | undefined;
    let ingestConfig = config;
    if (!mqttUrl) {
      // Every client logs in; the ingest with a secret that lives only in this process.
      const guarded = await startGuardedBroker(config, pool, telemetry.registry, logger, options.mqttTokens?.(pool) ?? { verify: (password) => verifyApiToken(pool, password), exist: () => hasActiveTokens(pool) });
      broker = guarded.broker;
      cleanups.push(() => broker!.close());
      mqttUrl = broker.url;
      ingestConfig = { ...config, mqtt: { ...config.mqtt, ...guarded.login } };
    }
    // aedes speaks MQTT 3.1.1 only; an external broker gets MQTT 5 (receive maximum, session expiry).
    const protocolVersion = config.mqtt.protocol === 'auto' ? (broker ? 4 : 5) : config.mqtt.protocol;

    const role = config.cluster.role;
    const bus = new PgBus(databaseUrl, logger.child({ component: 'cluster' }), 'vigie-listen');
    await bus.start();
    cleanups.push(() => bus.stop());
    // Every commit of every process, read back from the commit feed (live streams, upkeep).
    const commits = new FeedHub<CommitEntry>({
      bus,
      channel: CHANNEL.commit,
      logger,
      read: (after, limit) => readCommitLog(pool, after, limit, 20_000),
      last: () => lastCommitSeq(pool),
      pageSize: 200,
      // Recent commits stay in memory for Last-Event-ID resumptions, shared by every resuming
      // client (older ones come from the table, a copy per client): 200,000 observations,
      // about 50 MB, read in every process whether or not a live stream is open.
      ring: { maxWeight: 200_000, weight: (e) => e.observations.length },
    });
    await commits.start();
    cleanups.push(async () => commits.stop());
    const leases = new LeaseManager({ url: databaseUrl, logger: logger.child({ component: 'leases' }), checkMs: config.cluster.leaseCheckMs, keepalive: config.cluster.keepalive });

    // Modules are created after the ingest starts (they may publish on its connection), but
    // listen from the first commit: the listener list is read at each commit.
    const committedListeners: Array<(batch: Batch) => void> = [];
    const ingest = await startIngest({
      config: ingestConfig,
      mqttUrl,
      protocolVersion,
      pool,
      registry,
      telemetry,
      logger,
      intake: roleHasIntake(role),
      exclusiveDecoders: new Set(['sparkplug-b']),
      subscribe: !broker,
      onCommitted: (batch) => {
        for (const listener of committedListeners) listener(batch);
      },
    });
    cleanups.push(() => ingest.destroy());
    broker?.attachIntake(ingest.brokerIntake);

    const modules: PlatformModule[] = [];
    const streamsCut = new client.Counter({ name: 'vigie_stream_cut_total', help: 'SSE streams the server closed, by reason (too_slow, stalled, shutdown)', labelNames: ['reason'], registers: [telemetry.registry] });
    const sse: SseHub = new SseHub({ ...config.stream, identify: (req) => req.identity?.subject ?? null, onDestroyed: (reason) => streamsCut.inc({ reason }) });
    new client.Gauge({ name: 'vigie_stream_clients', help: 'Open SSE streams (observations and alerts)', registers: [telemetry.registry], collect() { this.set(sse.size); } });
    for (const factory of MODULES) {
      const mod = await factory({ config, logger, pool, registry, telemetry, timescale, ingest, sse, bus, commits, member: leases.member });
      modules.push(mod);
      if (mod.stop) cleanups.push(mod.stop);
      if (mod.onCommitted) committedListeners.push(mod.onCommitted);
      for (const [name, handler] of Object.entries(mod.singletons ?? {}) as Array<[Singleton, RoleHandler]>) {
        if (ROLE_SINGLETONS[role].includes(name)) leases.register(name, handler);
      }
    }
    // Take the free singleton roles now (a lone process holds them all before it reports ready).
    await leases.start();
    cleanups.push(() => leases.stop());

    const app = await buildApp({
      pool,
      logger,
      metricsRegistry: telemetry.registry,
      openapi: config.openapi,
      http: config.http,
      auth: { oidc: access.oidc, metricsAccess: config.auth.metricsAccess, tokenTouchMs: config.auth.tokenTouchMs, recheckMs: config.auth.recheckMs },
      plugins: [clusterRoutes({ pool, leases, role }), ...(roleServesApi(role) ? modules.flatMap((m) => (m.routes ? [m.routes] : [])) : [])],
      readiness: async () => {
        let database = false;
        try {
          await pool.query('select 1');
          database = true;
        } catch {
          database = false;
        }
        // A commit failing now (connection lost, or a dead letter the store keeps refusing)
        // means nothing is acknowledged: not ready, whatever a bare `select 1` says.
        return { database, broker: ingest.source.connected, commits: ingest.sink.failingSince === null };
      },
    });
    await app.listen({ host: config.http.host, port: config.http.port });
    cleanups.push(() => app.close());
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    const httpUrl = `${config.http.tls ? 'https' : 'http'}://${host}:${port}`;

    let stopped = false;
    return {
      config,
      app,
      pool,
      ingest,
      httpUrl,
      mqttUrl,
      databaseUrl,
      timescale,
      leases,
      broker,
      async stop() {
        if (stopped) return;
        stopped = true;
        await app.close();
        await ingest.stop(config.shutdownTimeoutMs);
        // Singletons stop and their locks are released at once: another process takes them
        // at its next check (VIGIE_LEASE_CHECK_MS).
        await leases.stop();
        for (const m of modules.reverse()) await m.stop?.().catch((err) => logger.error({ err, module: m.name }, 'module stop failed'));
        commits.stop();
        await bus.stop();
        await pool.end();
        if (broker) await broker.close();
        if (embeddedPg) await embeddedPg.stop();
        lock?.release();
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}
