/**
 * Migrations against a real PostgreSQL: idempotent, locked, refusing edited or newer schemas.
 * The concurrent start runs with each storage mode's set-up after the SQL files (partition
 * conversion, or the TimescaleDB hypertable, policies and aggregates), as several Vigie
 * processes starting together would.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { loadConfig } from '../config.ts';
import { setupStorage } from '../timeseries/storage.ts';
import { createTestDatabase, forEachStorageMode } from '../../test/helpers/database.ts';
import { listMigrations, migrate } from './migrate.ts';
import { createPool } from './pool.ts';

const logger = pino({ level: 'silent' });
const db = await createTestDatabase('migrate', 'plain');
const pool = createPool(db.url, 4);
t.teardown(async () => {
  await pool.end();
  await db.drop();
});

t.test('applies every migration once, even when started concurrently', async (t) => {
  const results = await Promise.all([migrate(pool, { logger }), migrate(pool, { logger }), migrate(pool, { logger })]);
  const applied = results.flatMap((r) => r.applied);
  t.same(applied.sort(), listMigrations().map((m) => m.name).sort(), 'each file applied by exactly one of the three');
  t.same((await migrate(pool, { logger })).applied, [], 'nothing to do the second time');
});

t.test('three processes starting together set the storage up once, in each mode', (t) =>
  forEachStorageMode(t, async (t, mode) => {
    const db = await createTestDatabase('migrate_storage', mode);
    const pool = createPool(db.url, 4);
    t.teardown(async () => {
      await pool.end();
      await db.drop();
    });
    const config = loadConfig({ DATABASE_URL: db.url, ...db.env });
    const outcomes: boolean[] = [];
    const start = () => migrate(pool, { logger, after: async (c) => void outcomes.push(await setupStorage(c, config, logger)) });
    const results = await Promise.all([start(), start(), start()]);
    t.same(results.flatMap((r) => r.applied).sort(), listMigrations().map((m) => m.name).sort(), 'each file applied once');
    t.same(outcomes, [mode === 'timescale', mode === 'timescale', mode === 'timescale'], 'every process runs the pinned mode');
    const { rows } = await pool.query(`select relkind from pg_class where relname = 'observations'`);
    t.equal(rows[0].relkind, mode === 'plain' ? 'p' : 'r', mode === 'plain' ? 'partitioned' : 'a hypertable (an ordinary table for the catalogue)');
    if (mode === 'timescale') {
      const { rows: jobs } = await pool.query(`select count(*)::int as n from timescaledb_information.jobs where proc_name = 'policy_refresh_continuous_aggregate'`);
      t.equal(jobs[0].n, 2, 'one refresh policy per aggregate, not one per start');
    }
  }),
);

t.test('refuses an edited once-migration and a newer database', async (t) => {
  const files = listMigrations();
  const edited = files.map((f) => (f.kind === 'once' ? { ...f, checksum: 'different' } : f));
  await t.rejects(migrate(pool, { logger }, edited), { code: 'VIGIE_ERR_MIGRATION_CHANGED' });
  await pool.query(`insert into vigie_migrations (name, kind, checksum) values ('999_future.sql', 'once', 'x')`);
  await t.rejects(migrate(pool, { logger }), { code: 'VIGIE_ERR_SCHEMA_NEWER' });
  await pool.query(`delete from vigie_migrations where name = '999_future.sql'`);
});

t.test('re-applies a repeatable migration when it changes; a failing one is rolled back', async (t) => {
  const other = await createTestDatabase('migrate2', 'plain');
  const pool = createPool(other.url, 2);
  try {
    await repeatableAndFailing(t, pool);
  } finally {
    await pool.end();
    await other.drop();
  }
});

async function repeatableAndFailing(t: Test, pool: ReturnType<typeof createPool>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-mig-'));
  mkdirSync(path.join(dir, 'once'));
  mkdirSync(path.join(dir, 'repeatable'));
  writeFileSync(path.join(dir, 'repeatable', 'v.sql'), 'create or replace view test_v as select 1 as x');
  t.same((await migrate(pool, { logger }, listMigrations(dir))).applied, ['v.sql']);
  writeFileSync(path.join(dir, 'repeatable', 'v.sql'), 'create or replace view test_v as select 2 as x');
  t.same((await migrate(pool, { logger }, listMigrations(dir))).applied, ['v.sql']);
  t.equal((await pool.query('select x from test_v')).rows[0].x, 2);
  writeFileSync(path.join(dir, 'once', '001_bad.sql'), 'create table test_half (a int); select no_such_function();');
  await t.rejects(migrate(pool, { logger }, listMigrations(dir)), { code: 'VIGIE_ERR_MIGRATION_FAILED' });
  t.equal((await pool.query(`select to_regclass('test_half') as r`)).rows[0].r, null, 'the half-applied migration left nothing');
}
