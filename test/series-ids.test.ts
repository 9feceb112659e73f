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
  const keys = Array.from({ length: 500 }, (_, i) => ({ deviceId: `dev-${i % 50}`, metric: i % 2 ? 'co2' : 'air_temperature', channel: `ch${i % 5}` }));
  const caches = [new SeriesIds(), new SeriesIds()];
  // Each process sees the keys in its own order, several batches at once.
  const runs = await Promise.all(
    caches.flatMap((c, k) => [0, 1, 2].map((j) => c.idsOf(pools[k]!, k ? [...keys].reverse().slice(j * 100) : keys.slice(j * 100)))),
  );
  t.ok(runs.length > 0);
  const unique = new Set(keys.map((k) => `${k.deviceId}|${k.metric}|${k.channel}`)).size;
  t.equal(caches[0]!.size, unique);
  t.equal(caches[1]!.size, unique);
  const a = await caches[0]!.idsOf(pools[0]!, keys);
  const b = await caches[1]!.idsOf(pools[1]!, keys);
  t.same(a, b, 'same id in both processes');
  t.equal(new Set(a).size, unique, 'one id per (device, metric, channel)');
  const { rows } = await pools[0]!.query(`select count(*)::int as n from series`);
  t.equal(rows[0].n, unique, 'one row per (device, metric, channel)');
});

t.test('an id is cached only once its row is committed', async (t) => {
  const cache = new SeriesIds();
  const key = { deviceId: 'dev-rollback', metric: 'co2', channel: '' };
  const client = await pools[0]!.connect();
  try {
    // A batch transaction that fails after the series was resolved: the series row stays.
    const [id] = await cache.idsOf(pools[0]!, [key]);
    await client.query('begin');
    await client.query(`insert into ingest_batches (received_at) values (now())`);
    await client.query('rollback');
    const { rows } = await pools[1]!.query(`select id from series where device_id = 'dev-rollback'`);
    t.equal(rows[0]?.id, id, 'visible to another process');
  } finally {
    client.release();
  }
});
