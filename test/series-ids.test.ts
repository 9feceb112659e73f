/**
 * Series ids are created on first sight by whichever process gets there first: two processes
 * (two pools, two caches) creating the same series at once end up with the same ids, and a
 * batch that rolls back leaves no cached id without its row.
 */
import pg from 'pg';
import pino from 'pino';
import t from 'tap';
import { migrate } from '../services/store/migrate.ts';
import { SeriesIds } from '../services/store/series-ids.ts';
import { createTestDatabase } from './helpers/database.ts';

const db = await createTestDatabase('series');
const pools = [new pg.Pool({ connectionString: db.url, max: 4 }), new pg.Pool({ connectionString: db.url, max: 4 })];
t.teardown(async () => {
  for (const p of pools) await p.end();
  await db.drop();
});
await migrate(pools[0]!, { logger: pino({ level: 'silent' }) });

t.test('two processes creating the same series at once get the same ids', async (t) => {
  const keys = Array.from({ length: 500 }, (_, i) => SeriesIds.key(`dev-${i % 50}`, i % 2 ? 'co2' : 'air_temperature', `ch${i % 5}`));
  const caches = [new SeriesIds(), new SeriesIds()];
  // Each process sees the keys in its own order, several batches at once.
  const runs = await Promise.all(
    caches.flatMap((c, k) => [0, 1, 2].map((j) => c.resolve(pools[k]!, k ? [...keys].reverse().slice(j * 100) : keys.slice(j * 100)))),
  );
  t.ok(runs.length > 0);
  const unique = new Set(keys);
  t.equal(caches[0]!.size, unique.size);
  t.equal(caches[1]!.size, unique.size);
  const a = await caches[0]!.resolve(pools[0]!, unique);
  const b = await caches[1]!.resolve(pools[1]!, unique);
  for (const k of unique) t.equal(a.get(k), b.get(k), 'same id in both processes');
  const { rows } = await pools[0]!.query(`select count(*)::int as n from series`);
  t.equal(rows[0].n, unique.size, 'one row per (device, metric, channel)');
});

t.test('an id is cached only once its row is committed', async (t) => {
  const cache = new SeriesIds();
  const key = SeriesIds.key('dev-rollback', 'co2', '');
  const client = await pools[0]!.connect();
  try {
    // A batch transaction that fails after the series was resolved: the series row stays.
    const ids = await cache.resolve(pools[0]!, [key]);
    await client.query('begin');
    await client.query(`insert into ingest_batches (received_at) values (now())`);
    await client.query('rollback');
    const { rows } = await pools[1]!.query(`select id from series where device_id = 'dev-rollback'`);
    t.equal(rows[0]?.id, ids.get(key), 'visible to another process');
  } finally {
    client.release();
  }
});
