/**
 * Migrations against a real PostgreSQL: idempotent, locked, refusing edited or newer schemas.
 * The concurrent start runs with each storage mode's set-up after the SQL files (partition
 * conversion, or the TimescaleDB hypertable, policies and aggregates), as several Vigie
 * processes starting together would.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
    const { rows } = await pool.query(`select relkind from pg_class where relname = 'observation_values'`);
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

t.test('a comment is not an edit; a database recorded with whole-text checksums is brought up to date', async (t) => {
  const other = await createTestDatabase('migrate3');
  const pool = createPool(other.url, 2);
  t.teardown(async () => {
    await pool.end();
    await other.drop();
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-mig-'));
  mkdirSync(path.join(dir, 'once'));
  mkdirSync(path.join(dir, 'repeatable'));
  const file = path.join(dir, 'once', '001_t.sql');
  writeFileSync(file, '-- first wording\ncreate table test_c (a int);\n');
  t.same((await migrate(pool, { logger }, listMigrations(dir))).applied, ['001_t.sql']);
  writeFileSync(file, '-- corrected wording, citing the standard\n\ncreate table test_c (a int);  \n');
  t.same((await migrate(pool, { logger }, listMigrations(dir))).applied, [], 'a comment change is not an edit');
  writeFileSync(file, '-- corrected wording\ncreate table test_c (a bigint);\n');
  await t.rejects(migrate(pool, { logger }, listMigrations(dir)), { code: 'VIGIE_ERR_MIGRATION_CHANGED' }, 'a statement change is');

  // A record written by a version whose checksum covered the whole text.
  writeFileSync(file, '-- first wording\ncreate table test_c (a int);\n');
  const [legacy] = listMigrations(dir);
  await pool.query('update vigie_migrations set checksum = $1 where name = $2', [legacy!.legacyChecksums[0], '001_t.sql']);
  t.same((await migrate(pool, { logger }, listMigrations(dir))).applied, [], 'the older checksum is recognised');
  t.equal((await pool.query('select checksum from vigie_migrations where name = $1', ['001_t.sql'])).rows[0].checksum, legacy!.checksum, 'and replaced');
});

t.test('a database migrated by Vigie 0.1, before comments left the checksum, is up to date', async (t) => {
  const other = await createTestDatabase('migrate4');
  const pool = createPool(other.url, 2);
  t.teardown(async () => {
    await pool.end();
    await other.drop();
  });
  await migrate(pool, { logger });
  const recorded = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations', 'recorded-checksums.json'), 'utf8')) as { once: Record<string, string[]> };
  t.ok(Object.keys(recorded.once).length > 0);
  for (const [name, sums] of Object.entries(recorded.once)) {
    await pool.query('update vigie_migrations set checksum = $1 where name = $2', [sums[0], name]);
  }
  t.same((await migrate(pool, { logger })).applied, [], 'nothing re-applied, nothing refused');
  const { rows } = await pool.query<{ name: string; checksum: string }>('select name, checksum from vigie_migrations');
  const now = new Map(listMigrations().map((m) => [m.name, m.checksum]));
  for (const r of rows) t.equal(r.checksum, now.get(r.name), `${r.name} recorded with its statements checksum`);
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
