/**
 * Throw-away databases for benchmarks on BENCH_DATABASE_ADMIN_URL (default the machine's
 * PostgreSQL). Not test/helpers/database.ts: that one loads tap, which would turn a benchmark
 * into a test (TAP output on stdout, a 30-second timeout).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(label: string, adminUrl = ADMIN_URL): Promise<BenchDatabase> {
  const name = `${label}_b${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
