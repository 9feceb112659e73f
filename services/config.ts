/**
 * Configuration, parsed once at start-up from the environment and an optional config file
 * (`VIGIE_CONFIG`, YAML or JSON with the same keys). The environment wins over the file; an
 * empty variable counts as unset. Nothing else in the platform reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_ROUTES, parseRoutes } from '../ingest/default-routes.ts';
import type { DecoderOptions } from '../ingest/decoders/registry.ts';
import type { TopicRoute } from '../ingest/topic-routes.ts';
import type { OidcConfig } from './auth/oidc.ts';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every setting, with its default; the README's configuration table mirrors this. */
export const configSchema = z.object({
  DATABASE_URL: z.string().url().optional().describe('PostgreSQL URL. Unset: an embedded PostgreSQL is started in VIGIE_DATA_DIR.'),
  MQTT_URL: z.string().url().optional().describe('Broker URL (mqtt://, mqtts://, ws://). Unset: an embedded broker listens on VIGIE_MQTT_PORT.'),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  VIGIE_DATA_DIR: z.string().default('./data'),
  VIGIE_HTTP_HOST: z.string().default('127.0.0.1').describe('Address the API listens on. Loopback by default; another address is refused until authentication is configured (docs/security.md, "Security").'),
  VIGIE_HTTP_PORT: int(3000, 0, 65535),
  VIGIE_MQTT_PORT: int(1883, 0, 65535),
  VIGIE_EMBEDDED_PG_PORT: int(0, 0, 65535),
  VIGIE_MQTT_CLIENT_ID: z.string().min(1).max(23).default('vigie-ingest'),
  VIGIE_MQTT_PROTOCOL: z.enum(['auto', '4', '5']).default('auto'),
  VIGIE_MQTT_SHARED_GROUP: z.string().regex(/^[^/+#]+$/).optional(),
  VIGIE_TOPIC_PREFIX: z.string().default(''),
  VIGIE_REGISTRY: z.string().optional(),
  VIGIE_BATCH_SIZE: int(2000, 1, 100_000),
  VIGIE_BATCH_MS: int(50, 1, 3_600_000),
  VIGIE_MAX_INFLIGHT: int(10_000, 1, 1_000_000),
  VIGIE_CONCURRENT_COMMITS: int(2, 1, 64),
  VIGIE_MAX_PAYLOAD_BYTES: int(256 * 1024, 64, 256 * 1024 * 1024),
  VIGIE_DEAD_LETTER_MAX_BYTES: int(16 * 1024, 0, 1024 * 1024),
  VIGIE_MAX_FUTURE_SECONDS: int(300, 0, 86400 * 365),
  VIGIE_MAX_AGE_DAYS: int(3660, 1, 36600),
  VIGIE_TIMESCALE: z.enum(['auto', 'off', 'require']).default('auto').describe('auto: TimescaleDB when the server has it installed and preloaded (shared_preload_libraries), else plain PostgreSQL; require: refuse to start without it; off: never.'),
  VIGIE_DB_POOL_SIZE: int(10, 1, 1000),
  VIGIE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VIGIE_RETRY_MIN_MS: int(100, 1, 3_600_000),
  VIGIE_RETRY_MAX_MS: int(30_000, 1, 3_600_000),
  VIGIE_SHUTDOWN_TIMEOUT_MS: int(15_000, 0, 3_600_000),
  VIGIE_OPENAPI: bool(true),

  // --- Security, HTTP side (services/auth, README "Security") ---
  VIGIE_ADMIN_TOKEN: z.string().min(16).max(512).optional().describe('This value is a valid admin API token from the first start (stored hashed). At least 16 characters.'),
  VIGIE_OIDC_ISSUER: z.string().url().optional().describe('OpenID Connect issuer (Keycloak: https://<host>/realms/<realm>); enables bearer JWTs.'),
  VIGIE_OIDC_AUDIENCE: z.string().optional().describe('Required `aud` of the JWTs (the Keycloak client id). Required with VIGIE_OIDC_ISSUER.'),
  VIGIE_OIDC_JWKS_URL: z.string().url().optional().describe('Signing keys URL; unset: the jwks_uri of the issuer\'s discovery document.'),
  VIGIE_OIDC_ROLES_CLAIM: z.string().default('realm_access.roles').describe('Claim holding the roles (dotted path; Keycloak client roles: resource_access.<client>.roles).'),
  VIGIE_OIDC_ROLE_PREFIX: z.string().default('vigie-').describe('Roles are the claim values with this prefix: vigie-viewer, vigie-operator, vigie-engineer, vigie-admin, vigie-integration.'),
  VIGIE_OIDC_DOMAINS_CLAIM: z.string().default('vigie_domains').describe('Claim with the domains: roads, buildings, roads:<route>, buildings:<building>, or *.'),
  VIGIE_OIDC_DEFAULT_DOMAINS: z.string().default('').describe('Domains of a user whose token has no domains claim; empty refuses such users.'),
  VIGIE_OIDC_SUBJECT_CLAIM: z.string().default('preferred_username').describe('Claim naming the user in the audit log (falls back to sub).'),
  VIGIE_OIDC_JWKS_COOLDOWN_MS: int(30_000, 0, 3_600_000).describe('Shortest time between two key-set fetches caused by an unknown key id (rotation).'),
  VIGIE_OIDC_CLOCK_TOLERANCE_S: int(30, 0, 600).describe('Accepted clock skew for exp/nbf.'),
  VIGIE_METRICS_ACCESS: z.enum(['loopback', 'open', 'token']).default('loopback').describe('GET /metrics: open to loopback clients and token elsewhere, open to all, or token always.'),
  VIGIE_AUTH_RECHECK_MS: int(5000, 100, 3_600_000).describe('How often open live streams re-check their token (revoked from the CLI, expired); an API revocation closes them at once.'),
  VIGIE_TOKEN_TOUCH_MS: int(60_000, 0, 86_400_000).describe('A token\'s last use is written at most this often.'),
  VIGIE_HTTP_TLS_CERT: z.string().optional().describe('PEM certificate (chain) file: the API speaks HTTPS. With VIGIE_HTTP_TLS_KEY.'),
  VIGIE_HTTP_TLS_KEY: z.string().optional().describe('PEM private key file of VIGIE_HTTP_TLS_CERT.'),
  VIGIE_HTTP_CORS_ORIGINS: z.string().default('').describe('Origins allowed to call the API from a browser, comma-separated; empty: CORS off.'),
  VIGIE_HTTP_RATE_LIMIT: int(1200, 0, 10_000_000).describe('Requests per minute per identity (per address before authentication); 0 disables.'),
  VIGIE_HTTP_AUTH_FAILURES: int(30, 0, 1_000_000).describe('Failed authentications per address in VIGIE_HTTP_AUTH_FAILURE_WINDOW_MS before it gets 429.'),
  VIGIE_HTTP_AUTH_FAILURE_WINDOW_MS: int(600_000, 1000, 86_400_000),
  VIGIE_HTTP_BODY_LIMIT: int(1024 * 1024, 1024, 256 * 1024 * 1024).describe('Largest request body in bytes (413 beyond).'),
  VIGIE_HTTP_REQUEST_TIMEOUT_MS: int(30_000, 0, 3_600_000).describe('Longest time to receive a whole request (slow-client guard; responses such as streams are not bounded).'),
  VIGIE_HTTP_TRUST_PROXY: z.string().default('').describe('Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR, comma-separated; `true` for any): client addresses for rate limits, /metrics and the audit log.'),

  // --- Wire formats (docs/wire-formats.md, "Wire formats"): topic routes, device profiles, per-format options. ---
  VIGIE_ROUTES: z.string().default('').describe('Extra topic routes, `filter=decoder` pairs separated by commas, tried before the defaults.'),
  VIGIE_DEFAULT_ROUTES: bool(true).describe('Subscribe the standard topics of every wire format (native, SenML, NGSI, TTS v3, ChirpStack v4, Sparkplug B).'),
  VIGIE_PROFILES_DIR: z.string().optional().describe('Folder of extra device profiles (*.yaml); a profile there replaces a built-in one of the same name.'),
  VIGIE_TTN_DEVICE_ID: z.enum(['device_id', 'dev_eui']).default('device_id').describe('Which TTS id becomes the Vigie device id.'),
  VIGIE_CHIRPSTACK_DEVICE_ID: z.enum(['devEui', 'deviceName']).default('devEui').describe('Which ChirpStack id becomes the Vigie device id.'),
  VIGIE_SPARKPLUG_REBIRTH_INTERVAL_MS: int(10_000, 0, 3_600_000).describe('Shortest time between two rebirth requests (NCMD) to one Sparkplug edge node.'),
  VIGIE_SPARKPLUG_REORDER_TIMEOUT_MS: int(2_000, 0, 600_000).describe("Sparkplug 'Reorder Timeout': how long a seq gap waits for its missing messages before a rebirth is requested (0: at once)."),
  VIGIE_NGSI_LOCAL_ZONE: z.string().default('UTC').describe('Time zone of NGSI date-times sent without one (the Smart Data Models write them in UTC).'),
  VIGIE_REPLAY_MAX: int(1000, 1, 100_000).describe('Most dead letters one POST /api/v1/dead-letters/replay re-runs.'),

  // --- Alerting (services/alerting, docs/alerting.md, "Alerting") ---
  VIGIE_ALERTING: bool(true).describe('Run the alerting engine.'),
  VIGIE_RULES_DIR: z.string().default('rules').describe('Folder of rule files (*.yaml, *.yml, *.json), versioned with the deployment.'),
  VIGIE_ALERT_TICK_MS: int(5000, 100, 3_600_000).describe('Timer for what only time reveals: missing data, `for` expiry, escalation.'),
  VIGIE_ALERT_MAX_LAG_SECONDS: int(900, 1, 86400 * 30).describe('Observations older than this on arrival are history: stored, backtestable, but they raise no live alert.'),
  VIGIE_ALERT_WEBHOOK_URL: z.string().url().optional().describe('Default webhook for rules whose webhook target has no url.'),
  VIGIE_ALERT_WEBHOOK_SECRET: z.string().optional().describe('HMAC-SHA256 key of the X-Vigie-Signature header.'),
  VIGIE_ALERT_WEBHOOK_TIMEOUT_MS: int(5000, 100, 120_000),
  VIGIE_ALERT_WEBHOOK_RETRIES: int(5, 0, 20),
  VIGIE_ALERT_WEBHOOK_BACKOFF_MS: int(1000, 1, 600_000),
  VIGIE_ALERT_WEBHOOK_ALLOW: z.string().default('').describe('Webhook URL prefixes a rule may send to, comma-separated; loopback, private and link-local addresses only when named here (an IP literal URL or a CIDR entry). VIGIE_ALERT_WEBHOOK_URL is always allowed.'),
  VIGIE_ALERT_MQTT_TOPIC: z.string().regex(/^[^#+]+$/).default('vigie/alerts').describe('Root of alert event topics: <root>/<rule>/<device>.'),
  VIGIE_RULES_WATCH_MS: int(500, 0, 600_000).describe('Debounce of the rules folder watch (rule files reloaded on change); 0 disables the watch.'),
  VIGIE_OUTBOX_POLL_MS: int(1000, 20, 600_000).describe('How often the notification outbox is scanned besides NOTIFY wake-ups (due retries).'),

  // --- Scaling out (services/cluster, docs/operations.md, "Scaling out") ---
  VIGIE_ROLE: z.enum(['all', 'ingest', 'api', 'worker']).default('all').describe('What this process runs (`vigie start --role` wins): all, ingest (MQTT intake + Sparkplug host), api (HTTP API), worker (singletons: alerting, notifications, storage upkeep, InfluxDB mirror).'),
  VIGIE_LEASE_CHECK_MS: int(1000, 50, 600_000).describe('How often a process tries to take the singleton roles nobody holds: the failover delay after a holder stops or dies.'),
  VIGIE_LEASE_KEEPALIVE_SECONDS: int(10, 1, 3600).describe('TCP keepalive idle time of the lease sessions: a vanished host loses its roles after about twice this.'),
  VIGIE_FEED_POLL_MS: int(1000, 20, 600_000).describe('Commit feed readers poll this often besides NOTIFY wake-ups (a notification lost while reconnecting).'),
  VIGIE_COMMIT_LOG_RETENTION_MINUTES: int(60, 1, 525_600).describe('Commit feed entries are kept at least this long (live-stream resumption window), and until every active consumer has passed them.'),
  VIGIE_COMMIT_LOG_STALE_HOURS: int(24, 1, 87_600).describe('A feed consumer silent this long (a mirror switched off) no longer holds the feed back.'),

  // --- Time series (README, "Time series"): storage policies, query bounds, live stream, InfluxDB mirror ---
  VIGIE_RETENTION_DAYS: int(0, 0, 36600).describe('Raw observations older than this are dropped in bulk (chunks or monthly partitions); 0 keeps everything.'),
  VIGIE_CHUNK_INTERVAL_DAYS: int(7, 1, 365).describe('TimescaleDB chunk interval of the observations hypertable.'),
  VIGIE_COMPRESS_AFTER_DAYS: int(30, 0, 36600).describe('TimescaleDB: compress chunks older than this (segmented by series); plain PostgreSQL: seal the months that ended more than this many days ago (rewritten sorted, without primary key, BRIN-indexed). 0 disables.'),
  VIGIE_ROLLUP_LATE_DAYS: int(35, 1, 36600).describe('Refresh window for continuous aggregates: late data up to this old is re-aggregated by the policy.'),
  VIGIE_ROLLUP_INTERVAL_MS: int(1000, 50, 3_600_000).describe('Plain PostgreSQL: how often touched rollup buckets are recomputed.'),
  VIGIE_SERIES_MAX_POINTS: int(200_000, 100, 10_000_000).describe('GET /api/v1/series refuses requests above this many series x buckets (400).'),
  VIGIE_STREAM_HEARTBEAT_MS: int(15_000, 100, 600_000).describe('SSE heartbeat comment interval.'),
  VIGIE_STREAM_REPLAY: int(10_000, 0, 1_000_000).describe('Most commits one SSE resumption (Last-Event-ID) replays from the commit feed; beyond, a reset event.'),
  VIGIE_STREAM_MAX_CLIENTS: int(100, 1, 100_000).describe('Open SSE streams (observations and alerts together); past it a client gets 503 VIGIE_ERR_STREAM_FULL.'),
  VIGIE_STREAM_MAX_BUFFER_BYTES: int(1024 * 1024, 16 * 1024, 256 * 1024 * 1024).describe('Unsent bytes held for one SSE client; past it the client is disconnected (it resumes with Last-Event-ID).'),
  VIGIE_INFLUX_URL: z.string().url().optional().describe('InfluxDB v2 (or compatible) URL; unset disables the mirror.'),
  VIGIE_INFLUX_ORG: z.string().default('vigie'),
  VIGIE_INFLUX_BUCKET: z.string().default('vigie'),
  VIGIE_INFLUX_TOKEN: z.string().optional(),
  VIGIE_INFLUX_MEASUREMENT_PREFIX: z.string().regex(/^[A-Za-z0-9_]*$/).default('').describe('Prepended to the measurement names (roads, buildings, health).'),
  VIGIE_INFLUX_BATCH_SIZE: int(5000, 1, 100_000).describe('Points per write request.'),
  VIGIE_INFLUX_FLUSH_MS: int(1000, 10, 600_000).describe('Longest a point waits before its batch is written.'),
  VIGIE_INFLUX_MAX_BUFFER: int(200_000, 1, 50_000_000).describe('Points held while InfluxDB is slow or down; beyond it the oldest are dropped and counted.'),
  VIGIE_INFLUX_TIMEOUT_MS: int(10_000, 100, 600_000).describe('Write request timeout.'),

  // --- Embedded broker security (docs/security.md, "Devices and the broker"; services/broker-auth) ---
  VIGIE_MQTT_AUTH: z.enum(['on', 'off']).default('on').describe('Embedded broker: every client authenticates and stays inside its topics. `off`: anonymous clients may publish and subscribe ingest topics (loopback only).'),
  VIGIE_MQTT_HOST: z.string().optional().describe('Embedded broker listen address. Default: 0.0.0.0 once a device can log in (an active broker credential, or VIGIE_MQTT_TLS_CA), else 127.0.0.1.'),
  VIGIE_MQTT_AUTH_CACHE_SECONDS: int(30, 0, 3600).describe('How long a verified password is remembered, and how often revoked credentials are disconnected.'),
  VIGIE_MQTT_TLS_CERT: z.string().optional().describe('PEM certificate (chain) of the embedded broker: with VIGIE_MQTT_TLS_KEY, starts an mqtts listener.'),
  VIGIE_MQTT_TLS_KEY: z.string().optional().describe('PEM private key of VIGIE_MQTT_TLS_CERT.'),
  VIGIE_MQTT_TLS_CA: z.string().optional().describe('PEM CA of device certificates: a device presenting a certificate it signed is authenticated as the certificate CN.'),
  VIGIE_MQTT_TLS_PORT: int(8883, 0, 65535).describe('Port of the mqtts listener.'),
  VIGIE_MQTT_TLS_HOST: z.string().optional().describe('Listen address of the mqtts listener (default: VIGIE_MQTT_HOST).'),
});
export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  raw: RawConfig;
  databaseUrl?: string;
  mqttUrl?: string;
  dataDir: string;
  http: {
    host: string;
    port: number;
    tls?: { certFile: string; keyFile: string };
    corsOrigins: string[];
    rateLimitPerMinute: number;
    authFailureLimit: number;
    authFailureWindowMs: number;
    bodyLimit: number;
    requestTimeoutMs: number;
    trustProxy: boolean | string[];
  };
  auth: {
    adminToken?: string;
    oidc?: OidcConfig;
    metricsAccess: 'loopback' | 'open' | 'token';
    tokenTouchMs: number;
    recheckMs: number;
  };
  embedded: { mqttPort: number; postgresPort: number };
  mqtt: {
    clientId: string;
    protocol: 'auto' | 4 | 5;
    sharedGroup?: string;
    topicPrefix: string;
    username?: string;
    password?: string;
  };
  registryPath?: string;
  ingest: {
    batchSize: number;
    batchMs: number;
    maxInflight: number;
    concurrentCommits: number;
    maxPayloadBytes: number;
    deadLetterMaxBytes: number;
    maxFutureMs: number;
    maxAgeMs: number;
    retryMinMs: number;
    retryMaxMs: number;
  };
  timescale: 'auto' | 'off' | 'require';
  dbPoolSize: number;
  logLevel: RawConfig['VIGIE_LOG_LEVEL'];
  shutdownTimeoutMs: number;
  openapi: boolean;
  formats: {
    /** VIGIE_ROUTES first, then the defaults (first match wins). */
    routes: TopicRoute[];
    profilesDir?: string;
    decoderOptions: DecoderOptions;
    replayMax: number;
  };
  alerting: {
    enabled: boolean;
    rulesDir: string;
    tickMs: number;
    maxLagMs: number;
    webhook: { url?: string; secret?: string; timeoutMs: number; retries: number; backoffMs: number; allow: string[] };
    mqttTopic: string;
    rulesWatchMs: number;
    outboxPollMs: number;
    feedPollMs: number;
  };
  cluster: {
    role: 'all' | 'ingest' | 'api' | 'worker';
    leaseCheckMs: number;
    keepalive: { idleS: number; intervalS: number; count: number };
    feedPollMs: number;
    commitLogRetentionMs: number;
    consumerStaleMs: number;
  };
  /** Server-Sent Events, every stream (services/api/sse.ts). */
  stream: { maxClients: number; maxBufferedBytes: number; heartbeatMs: number };
  timeseries: {
    retentionDays: number;
    chunkIntervalDays: number;
    compressAfterDays: number;
    rollupLateDays: number;
    rollupIntervalMs: number;
    seriesMaxPoints: number;
    streamHeartbeatMs: number;
    streamReplay: number;
  };
  /** Embedded broker security (services/broker-auth, services/embedded/broker-guard.ts). */
  brokerAuth: {
    mode: 'on' | 'off';
    /** VIGIE_MQTT_HOST; unset: decided at start (services/platform.ts, "no identity, loopback only"). */
    host?: string;
    cacheMs: number;
    /** `host` unset: the plain listener's address. */
    tls?: { port: number; host?: string; certFile: string; keyFile: string; caFile?: string };
  };
  influx?: { url: string; org: string; bucket: string; token?: string; measurementPrefix: string; batchSize: number; flushMs: number; maxBuffer: number; timeoutMs: number; retryMinMs: number; retryMaxMs: number };
}

export class ConfigError extends Error {
  readonly code = 'VIGIE_ERR_CONFIG';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function dropEmpty(source: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`VIGIE_CONFIG: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`VIGIE_CONFIG: ${file} must hold a mapping of setting names to values`);
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Record<keyof RawConfig, string | number>> = {}): Config {
  const fileValues = env.VIGIE_CONFIG ? readConfigFile(env.VIGIE_CONFIG) : {};
  const known = Object.keys(configSchema.shape);
  const fromEnv = Object.fromEntries(known.map((k) => [k, env[k]]));
  const merged = { ...dropEmpty(fileValues), ...dropEmpty(fromEnv), ...dropEmpty(overrides as Record<string, unknown>) };
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const r = result.data;
  const protocol = r.VIGIE_MQTT_PROTOCOL === 'auto' ? 'auto' : (Number(r.VIGIE_MQTT_PROTOCOL) as 4 | 5);
  if (r.VIGIE_MQTT_SHARED_GROUP && protocol === 4) {
    // Mosquitto accepts $share from 3.1.1 clients too, but it is an MQTT 5 feature (§4.8.2).
    throw new ConfigError('VIGIE_MQTT_SHARED_GROUP needs VIGIE_MQTT_PROTOCOL=5 (or auto)');
  }
  const mqttHost = r.VIGIE_MQTT_HOST;
  if (r.VIGIE_MQTT_AUTH === 'off' && mqttHost && !isLoopback(mqttHost)) {
    throw new ConfigError(`VIGIE_MQTT_HOST=${mqttHost} with VIGIE_MQTT_AUTH=off would let anyone on the network publish: without authentication the embedded broker listens on loopback only`);
  }
  if (Boolean(r.VIGIE_MQTT_TLS_CERT) !== Boolean(r.VIGIE_MQTT_TLS_KEY)) throw new ConfigError('VIGIE_MQTT_TLS_CERT and VIGIE_MQTT_TLS_KEY go together');
  if (r.VIGIE_MQTT_TLS_CA && !r.VIGIE_MQTT_TLS_CERT) throw new ConfigError('VIGIE_MQTT_TLS_CA needs the TLS listener (VIGIE_MQTT_TLS_CERT and VIGIE_MQTT_TLS_KEY)');
  const tlsHost = r.VIGIE_MQTT_TLS_HOST;
  if (r.VIGIE_MQTT_AUTH === 'off' && tlsHost && !isLoopback(tlsHost)) throw new ConfigError(`VIGIE_MQTT_TLS_HOST=${tlsHost} with VIGIE_MQTT_AUTH=off: without authentication the embedded broker listens on loopback only`);
  const extraRoutes = parseRoutes(r.VIGIE_ROUTES);
  if (typeof extraRoutes === 'string') throw new ConfigError(`VIGIE_ROUTES: ${extraRoutes}`);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: r.VIGIE_NGSI_LOCAL_ZONE });
  } catch {
    throw new ConfigError(`VIGIE_NGSI_LOCAL_ZONE: unknown time zone ${r.VIGIE_NGSI_LOCAL_ZONE}`);
  }
  if (Boolean(r.VIGIE_HTTP_TLS_CERT) !== Boolean(r.VIGIE_HTTP_TLS_KEY)) throw new ConfigError('VIGIE_HTTP_TLS_CERT and VIGIE_HTTP_TLS_KEY go together');
  if (r.VIGIE_OIDC_ISSUER && !r.VIGIE_OIDC_AUDIENCE) throw new ConfigError('VIGIE_OIDC_AUDIENCE is required with VIGIE_OIDC_ISSUER (the client id tokens are issued for)');
  const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
  const trust = r.VIGIE_HTTP_TRUST_PROXY.trim();
  return {
    raw: r,
    databaseUrl: r.DATABASE_URL,
    mqttUrl: r.MQTT_URL,
    dataDir: path.resolve(r.VIGIE_DATA_DIR),
    http: {
      host: r.VIGIE_HTTP_HOST,
      port: r.VIGIE_HTTP_PORT,
      tls: r.VIGIE_HTTP_TLS_CERT && r.VIGIE_HTTP_TLS_KEY ? { certFile: path.resolve(r.VIGIE_HTTP_TLS_CERT), keyFile: path.resolve(r.VIGIE_HTTP_TLS_KEY) } : undefined,
      corsOrigins: list(r.VIGIE_HTTP_CORS_ORIGINS),
      rateLimitPerMinute: r.VIGIE_HTTP_RATE_LIMIT,
      authFailureLimit: r.VIGIE_HTTP_AUTH_FAILURES,
      authFailureWindowMs: r.VIGIE_HTTP_AUTH_FAILURE_WINDOW_MS,
      bodyLimit: r.VIGIE_HTTP_BODY_LIMIT,
      requestTimeoutMs: r.VIGIE_HTTP_REQUEST_TIMEOUT_MS,
      trustProxy: trust === 'true' ? true : trust === '' || trust === 'false' ? false : list(trust),
    },
    auth: {
      adminToken: r.VIGIE_ADMIN_TOKEN,
      oidc: r.VIGIE_OIDC_ISSUER
        ? {
            issuer: r.VIGIE_OIDC_ISSUER,
            audience: r.VIGIE_OIDC_AUDIENCE!,
            jwksUrl: r.VIGIE_OIDC_JWKS_URL,
            rolesClaim: r.VIGIE_OIDC_ROLES_CLAIM,
            rolePrefix: r.VIGIE_OIDC_ROLE_PREFIX,
            domainsClaim: r.VIGIE_OIDC_DOMAINS_CLAIM,
            defaultDomains: list(r.VIGIE_OIDC_DEFAULT_DOMAINS),
            subjectClaim: r.VIGIE_OIDC_SUBJECT_CLAIM,
            jwksCooldownMs: r.VIGIE_OIDC_JWKS_COOLDOWN_MS,
            clockToleranceSeconds: r.VIGIE_OIDC_CLOCK_TOLERANCE_S,
          }
        : undefined,
      metricsAccess: r.VIGIE_METRICS_ACCESS,
      tokenTouchMs: r.VIGIE_TOKEN_TOUCH_MS,
      recheckMs: r.VIGIE_AUTH_RECHECK_MS,
    },
    embedded: { mqttPort: r.VIGIE_MQTT_PORT, postgresPort: r.VIGIE_EMBEDDED_PG_PORT },
    mqtt: {
      clientId: r.VIGIE_MQTT_CLIENT_ID,
      protocol,
      sharedGroup: r.VIGIE_MQTT_SHARED_GROUP,
      topicPrefix: r.VIGIE_TOPIC_PREFIX,
      username: r.MQTT_USERNAME,
      password: r.MQTT_PASSWORD,
    },
    registryPath: r.VIGIE_REGISTRY ? path.resolve(r.VIGIE_REGISTRY) : undefined,
    ingest: {
      batchSize: r.VIGIE_BATCH_SIZE,
      batchMs: r.VIGIE_BATCH_MS,
      maxInflight: r.VIGIE_MAX_INFLIGHT,
      concurrentCommits: r.VIGIE_CONCURRENT_COMMITS,
      maxPayloadBytes: r.VIGIE_MAX_PAYLOAD_BYTES,
      deadLetterMaxBytes: r.VIGIE_DEAD_LETTER_MAX_BYTES,
      maxFutureMs: r.VIGIE_MAX_FUTURE_SECONDS * 1000,
      maxAgeMs: r.VIGIE_MAX_AGE_DAYS * 86400_000,
      retryMinMs: r.VIGIE_RETRY_MIN_MS,
      retryMaxMs: r.VIGIE_RETRY_MAX_MS,
    },
    timescale: r.VIGIE_TIMESCALE,
    dbPoolSize: r.VIGIE_DB_POOL_SIZE,
    logLevel: r.VIGIE_LOG_LEVEL,
    shutdownTimeoutMs: r.VIGIE_SHUTDOWN_TIMEOUT_MS,
    openapi: r.VIGIE_OPENAPI,
    formats: {
      routes: [...extraRoutes, ...(r.VIGIE_DEFAULT_ROUTES ? DEFAULT_ROUTES : [])],
      profilesDir: r.VIGIE_PROFILES_DIR ? path.resolve(r.VIGIE_PROFILES_DIR) : undefined,
      decoderOptions: {
        'ttn-v3': { deviceId: r.VIGIE_TTN_DEVICE_ID },
        'chirpstack-v4': { deviceId: r.VIGIE_CHIRPSTACK_DEVICE_ID },
        'sparkplug-b': { rebirthMinIntervalMs: r.VIGIE_SPARKPLUG_REBIRTH_INTERVAL_MS, reorderTimeoutMs: r.VIGIE_SPARKPLUG_REORDER_TIMEOUT_MS },
        ngsi: { localZone: r.VIGIE_NGSI_LOCAL_ZONE },
      },
      replayMax: r.VIGIE_REPLAY_MAX,
    },
    alerting: {
      enabled: r.VIGIE_ALERTING,
      rulesDir: path.resolve(r.VIGIE_RULES_DIR),
      tickMs: r.VIGIE_ALERT_TICK_MS,
      maxLagMs: r.VIGIE_ALERT_MAX_LAG_SECONDS * 1000,
      webhook: {
        url: r.VIGIE_ALERT_WEBHOOK_URL,
        secret: r.VIGIE_ALERT_WEBHOOK_SECRET,
        timeoutMs: r.VIGIE_ALERT_WEBHOOK_TIMEOUT_MS,
        retries: r.VIGIE_ALERT_WEBHOOK_RETRIES,
        backoffMs: r.VIGIE_ALERT_WEBHOOK_BACKOFF_MS,
        allow: list(r.VIGIE_ALERT_WEBHOOK_ALLOW),
      },
      mqttTopic: r.VIGIE_ALERT_MQTT_TOPIC.replace(/\/+$/, ''),
      rulesWatchMs: r.VIGIE_RULES_WATCH_MS,
      outboxPollMs: r.VIGIE_OUTBOX_POLL_MS,
      feedPollMs: r.VIGIE_FEED_POLL_MS,
    },
    cluster: {
      role: r.VIGIE_ROLE,
      leaseCheckMs: r.VIGIE_LEASE_CHECK_MS,
      keepalive: { idleS: r.VIGIE_LEASE_KEEPALIVE_SECONDS, intervalS: Math.max(1, Math.ceil(r.VIGIE_LEASE_KEEPALIVE_SECONDS / 3)), count: 3 },
      feedPollMs: r.VIGIE_FEED_POLL_MS,
      commitLogRetentionMs: r.VIGIE_COMMIT_LOG_RETENTION_MINUTES * 60_000,
      consumerStaleMs: r.VIGIE_COMMIT_LOG_STALE_HOURS * 3_600_000,
    },
    stream: { maxClients: r.VIGIE_STREAM_MAX_CLIENTS, maxBufferedBytes: r.VIGIE_STREAM_MAX_BUFFER_BYTES, heartbeatMs: r.VIGIE_STREAM_HEARTBEAT_MS },
    timeseries: {
      retentionDays: r.VIGIE_RETENTION_DAYS,
      chunkIntervalDays: r.VIGIE_CHUNK_INTERVAL_DAYS,
      compressAfterDays: r.VIGIE_COMPRESS_AFTER_DAYS,
      rollupLateDays: r.VIGIE_ROLLUP_LATE_DAYS,
      rollupIntervalMs: r.VIGIE_ROLLUP_INTERVAL_MS,
      seriesMaxPoints: r.VIGIE_SERIES_MAX_POINTS,
      streamHeartbeatMs: r.VIGIE_STREAM_HEARTBEAT_MS,
      streamReplay: r.VIGIE_STREAM_REPLAY,
    },
    brokerAuth: {
      mode: r.VIGIE_MQTT_AUTH,
      host: mqttHost,
      cacheMs: r.VIGIE_MQTT_AUTH_CACHE_SECONDS * 1000,
      tls:
        r.VIGIE_MQTT_TLS_CERT && r.VIGIE_MQTT_TLS_KEY
          ? {
              port: r.VIGIE_MQTT_TLS_PORT,
              host: tlsHost,
              certFile: path.resolve(r.VIGIE_MQTT_TLS_CERT),
              keyFile: path.resolve(r.VIGIE_MQTT_TLS_KEY),
              caFile: r.VIGIE_MQTT_TLS_CA ? path.resolve(r.VIGIE_MQTT_TLS_CA) : undefined,
            }
          : undefined,
    },
    influx: r.VIGIE_INFLUX_URL
      ? {
          url: r.VIGIE_INFLUX_URL,
          org: r.VIGIE_INFLUX_ORG,
          bucket: r.VIGIE_INFLUX_BUCKET,
          token: r.VIGIE_INFLUX_TOKEN,
          measurementPrefix: r.VIGIE_INFLUX_MEASUREMENT_PREFIX,
          batchSize: r.VIGIE_INFLUX_BATCH_SIZE,
          flushMs: r.VIGIE_INFLUX_FLUSH_MS,
          maxBuffer: r.VIGIE_INFLUX_MAX_BUFFER,
          timeoutMs: r.VIGIE_INFLUX_TIMEOUT_MS,
          retryMinMs: r.VIGIE_RETRY_MIN_MS,
          retryMaxMs: r.VIGIE_RETRY_MAX_MS,
        }
      : undefined,
  };
}
