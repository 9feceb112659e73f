/**
 * A throw-away database for one test file, on the server of a chosen storage mode, created at
 * start and dropped at teardown. A test names the mode it needs; none inherits the machine's:
 *
 * - `plain`: the machine's PostgreSQL (TEST_DATABASE_ADMIN_URL, default
 *   postgres://postgres@127.0.0.1:5432/postgres), run with VIGIE_TIMESCALE=off;
 * - `timescale`: a PostgreSQL with timescaledb preloaded (TEST_TIMESCALE_URL, its admin URL;
 *   `.ci/run` starts one and sets it), run with VIGIE_TIMESCALE=require.
 *
 * Without TEST_TIMESCALE_URL the TimescaleDB-mode tests fail with a message saying so, unless
 * TEST_TIMESCALE_SKIP=1 opts out knowingly (they are then reported as skipped; `.ci/run`
 * never sets it).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import tap, { type Test } from 'tap';

export type StorageMode = 'plain' | 'timescale';
export const STORAGE_MODES: readonly StorageMode[] = ['plain', 'timescale'];

export const PLAIN_ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
/** A server with timescaledb installed but not preloaded (test/timeseries/not-preloaded.test.ts). */
export const NOT_PRELOADED_ADMIN_URL = process.env.TEST_NOT_PRELOADED_URL || PLAIN_ADMIN_URL;

export const TIMESCALE_MISSING_MESSAGE =
  'TEST_TIMESCALE_URL is not set: the TimescaleDB-mode tests need the admin URL of a PostgreSQL server with timescaledb in ' +
  'shared_preload_libraries (see the README, "Tests and benchmarks", for starting one). Set TEST_TIMESCALE_SKIP=1 to skip them knowingly.';

/** The reason TimescaleDB-mode tests are skipped, or false when they must run. */
export function timescaleSkipReason(): string | false {
  if (process.env.TEST_TIMESCALE_URL) return false;
  return process.env.TEST_TIMESCALE_SKIP === '1' ? 'TEST_TIMESCALE_SKIP=1: TimescaleDB mode not tested on this machine' : false;
}

export function adminUrl(mode: StorageMode): string {
  if (mode === 'plain') return PLAIN_ADMIN_URL;
  const url = process.env.TEST_TIMESCALE_URL;
  if (!url) throw new Error(TIMESCALE_MISSING_MESSAGE);
  return url;
}

/** The setting that pins the platform to the mode (never `auto` in tests). */
export function storageEnv(mode: StorageMode): { VIGIE_TIMESCALE: 'off' | 'require' } {
  return { VIGIE_TIMESCALE: mode === 'plain' ? 'off' : 'require' };
}

/** The mode of this test file: plain unless a `*.timescale.test.ts` entry runs it (runInStorageMode). */
let fileMode: StorageMode = 'plain';
export function storageModeOfFile(): StorageMode {
  return fileMode;
}

/**
 * Runs a whole test file (`load` imports it) in `mode`: what it creates through these helpers
 * without naming a mode gets this one. Used by the `*.timescale.test.ts` entries of the suites
 * whose assertions hold in both modes. The TimescaleDB run fails when its server is not
 * configured, or is skipped with TEST_TIMESCALE_SKIP=1.
 */
export async function runInStorageMode(mode: StorageMode, load: () => Promise<unknown>): Promise<void> {
  if (mode === 'timescale') {
    const skip = timescaleSkipReason();
    if (skip) {
      tap.plan(0, skip);
      return;
    }
    if (!process.env.TEST_TIMESCALE_URL) {
      tap.fail(TIMESCALE_MISSING_MESSAGE);
      return;
    }
  }
  fileMode = mode;
  await load();
}

export interface TestDatabase {
  url: string;
  name: string;
  mode: StorageMode;
  /** VIGIE_TIMESCALE for this mode. */
  env: { VIGIE_TIMESCALE: 'off' | 'require' };
  drop(): Promise<void>;
}

/**
 * `template`: template0 for a database free of anything the server's template1 may carry;
 * `adminUrl`: another server than the mode's.
 */
export async function createTestDatabase(label = 'vigie', mode: StorageMode = fileMode, options: { template?: 'template0' | 'template1'; adminUrl?: string } = {}): Promise<TestDatabase> {
  const admin = options.adminUrl ?? adminUrl(mode);
  const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_t${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`create database ${name}${options.template ? ` template ${options.template}` : ''}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    mode,
    env: storageEnv(mode),
    async drop() {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      // A pool's end() resolves once it has asked its connections to close, not once they have:
      // give them a moment to go, so `with (force)` does not cut one mid-close (its FATAL would
      // surface as an unhandled error in the test that just ended its pool).
      for (let i = 0; i < 40; i++) {
        const { rows } = await d.query('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    },
  };
}

/**
 * A test that needs the TimescaleDB server: it fails when TEST_TIMESCALE_URL is not set, or is
 * reported as skipped with TEST_TIMESCALE_SKIP=1.
 */
export function timescaleTest(t: Test, name: string, fn: (t: Test) => Promise<void>): Promise<unknown> {
  return t.test(name, { skip: timescaleSkipReason() }, async (t) => {
    if (!process.env.TEST_TIMESCALE_URL) {
      t.fail(TIMESCALE_MISSING_MESSAGE);
      return;
    }
    await fn(t);
  });
}

/** Runs `suite` once per storage mode, as subtests named after the mode (see timescaleTest). */
export async function forEachStorageMode(t: Test, suite: (t: Test, mode: StorageMode) => Promise<void>, modes: readonly StorageMode[] = STORAGE_MODES): Promise<void> {
  for (const mode of modes) {
    if (mode === 'plain') await t.test('plain PostgreSQL (storage mode plain)', (t) => suite(t, mode));
    else await timescaleTest(t, 'TimescaleDB (storage mode timescale)', (t) => suite(t, mode));
  }
}
