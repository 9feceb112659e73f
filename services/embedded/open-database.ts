/**
 * The database a command-line tool reads: DATABASE_URL when set, else the embedded PostgreSQL
 * of VIGIE_DATA_DIR. When a Vigie runs on that directory, the tool connects to its PostgreSQL
 * (port from `postmaster.pid`, PostgreSQL's own file, line 4; password beside the data); when
 * none runs, the tool starts the embedded PostgreSQL for itself, holding the data-directory
 * lock so no Vigie starts meanwhile, and stops it when done.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { VigieError } from '../errors.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { startEmbeddedPostgres } from './postgres.ts';

export interface OpenedDatabase {
  url: string;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, logger: Logger, purpose: string): Promise<OpenedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, close: async () => {} };
  const databaseDir = path.join(config.dataDir, 'postgres');
  const credentials = path.join(config.dataDir, 'embedded-postgres.json');
  if (!existsSync(path.join(databaseDir, 'PG_VERSION')) || !existsSync(credentials)) {
    throw new VigieError('VIGIE_ERR_EMBEDDED_PG', `no embedded database in ${config.dataDir}: start Vigie once with this VIGIE_DATA_DIR, or set DATABASE_URL (or --database-url)`);
  }
  let lock;
  try {
    lock = lockDataDir(config.dataDir, purpose);
  } catch (err) {
    if ((err as VigieError).code !== 'VIGIE_ERR_DATA_DIR_LOCKED') throw err;
    const port = Number(readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
    const { user, password } = JSON.parse(readFileSync(credentials, 'utf8')) as { user: string; password: string };
    return { url: `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/vigie`, close: async () => {} };
  }
  try {
    const pg = await startEmbeddedPostgres(config.dataDir, 0, logger);
    return {
      url: pg.url,
      close: async () => {
        await pg.stop();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
