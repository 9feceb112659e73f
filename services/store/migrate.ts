/**
 * Migrations in two folders, as TimescaleDB's own services do: `once/` (numbered, run once,
 * checksummed: editing an applied one is refused) and `repeatable/` (create-or-replace
 * objects, re-applied when their checksum changes). All of it runs under an advisory lock,
 * so several Vigie processes starting together migrate once. A database that has
 * migrations this build does not know is newer than the code: we refuse to run on it.
 *
 * The checksum covers the statements, not the comments: whole-line `--` comments and blank
 * lines are left out, so correcting a comment in an applied file is not an edit. Databases
 * migrated when the checksum covered the whole text are recognised by that older checksum (or,
 * for a file whose comments changed since, by the ones listed in recorded-checksums.json) and
 * their record is brought up to date.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type pg from 'pg';
import { VigieError } from '../errors.ts';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
/** Arbitrary but fixed: pg_advisory_lock key for "Vigie schema migration". */
const MIGRATION_LOCK_KEY = 0x56494749; // "VIGI"

export interface MigrationFile {
  name: string;
  kind: 'once' | 'repeatable';
  sql: string;
  checksum: string;
  /** Checksums earlier versions recorded for this file (of its whole text). */
  legacyChecksums: string[];
}

/** Whole-text checksums recorded for files whose comments were corrected since (see the file). */
const RECORDED: { once: Record<string, string[]> } = JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, 'recorded-checksums.json'), 'utf8'));

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The statements of a migration: whole-line comments, trailing blanks and blank lines removed. */
export function migrationStatements(sql: string): string {
  return sql
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '' && !line.trimStart().startsWith('--'))
    .join('\n');
}

export function listMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  const read = (kind: 'once' | 'repeatable') =>
    readdirSync(path.join(dir, kind))
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((name) => {
        const sql = readFileSync(path.join(dir, kind, name), 'utf8');
        return { name, kind, sql, checksum: sha256(migrationStatements(sql)), legacyChecksums: [sha256(sql), ...((kind === 'once' && dir === MIGRATIONS_DIR && RECORDED.once[name]) || [])] };
      });
  return [...read('once'), ...read('repeatable')];
}

export interface MigrateOptions {
  logger: Logger;
  lockTimeoutMs?: number;
  /** Extra steps run inside the lock after the SQL files (TimescaleDB set-up). */
  after?: (client: pg.PoolClient) => Promise<void>;
}

export async function migrate(pool: pg.Pool, options: MigrateOptions, files = listMigrations()): Promise<{ applied: string[] }> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query(`set lock_timeout = ${Math.floor(options.lockTimeoutMs ?? 60_000)}`);
    await client.query(`set statement_timeout = 0`);
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`create table if not exists vigie_migrations (
        name text primary key, kind text not null, checksum text not null, applied_at timestamptz not null default now())`);
      const { rows } = await client.query<{ name: string; kind: string; checksum: string }>('select name, kind, checksum from vigie_migrations');
      const done = new Map(rows.map((r) => [r.name, r]));
      const known = new Set(files.map((f) => f.name));
      const unknown = rows.filter((r) => r.kind === 'once' && !known.has(r.name)).map((r) => r.name);
      if (unknown.length > 0) {
        throw new VigieError('VIGIE_ERR_SCHEMA_NEWER', `the database has migrations this Vigie does not know (${unknown.join(', ')}): it was migrated by a newer version; upgrade Vigie`);
      }
      for (const file of files) {
        const prior = done.get(file.name);
        if (prior && prior.checksum === file.checksum) continue;
        if (prior && file.legacyChecksums.includes(prior.checksum)) {
          await client.query('update vigie_migrations set checksum = $2 where name = $1', [file.name, file.checksum]);
          continue;
        }
        if (prior && file.kind === 'once') {
          throw new VigieError('VIGIE_ERR_MIGRATION_CHANGED', `migration ${file.name} was edited after it was applied; add a new migration instead`);
        }
        await client.query('begin');
        try {
          await client.query(file.sql);
          await client.query(
            `insert into vigie_migrations (name, kind, checksum) values ($1, $2, $3)
             on conflict (name) do update set checksum = excluded.checksum, applied_at = now()`,
            [file.name, file.kind, file.checksum],
          );
          await client.query('commit');
        } catch (err) {
          await client.query('rollback');
          throw new VigieError('VIGIE_ERR_MIGRATION_FAILED', `migration ${file.kind}/${file.name} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(file.name);
        options.logger.info({ migration: file.name, kind: file.kind }, 'migration applied');
      }
      await options.after?.(client);
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
  return { applied };
}
