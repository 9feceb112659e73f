/** A throw-away database with Vigie's schema in the given storage mode, and a pool on it (dropped at teardown). */
import pino from 'pino';
import type { Test } from 'tap';
import { loadConfig, type Config } from '../../services/config.ts';
import { migrate } from '../../services/store/migrate.ts';
import { createPool } from '../../services/store/pool.ts';
import { setupStorage } from '../../services/timeseries/storage.ts';
import { createTestDatabase, type StorageMode, type TestDatabase } from './database.ts';

export async function migratedTestDatabase(t: Test, label: string, mode: StorageMode, poolSize = 4): Promise<{ db: TestDatabase; pool: ReturnType<typeof createPool>; config: Config }> {
  const db = await createTestDatabase(label, mode);
  const pool = createPool(db.url, poolSize);
  t.teardown(async () => {
    await pool.end();
    await db.drop();
  });
  const logger = pino({ level: 'silent' });
  const config = loadConfig({ DATABASE_URL: db.url, ...db.env });
  await migrate(pool, { logger, after: async (c) => void (await setupStorage(c, config, logger)) });
  return { db, pool, config };
}
