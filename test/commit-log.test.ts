/**
 * Reading the commit feed in pages: a page holds at most `limit` entries and at most
 * `maxObservations` observations (one entry at least, however large), in seq order, and
 * consecutive pages neither skip nor repeat an entry. The observation bound is what keeps a
 * consumer behind a backlog of full batches (the alert evaluator, the InfluxDB mirror) from
 * loading a million observations per page.
 */
import t from 'tap';
import type { Observation } from '../schemas/index.ts';
import { appendCommitLog, readCommitLog } from '../services/cluster/commit-log.ts';
import { migratedTestDatabase } from './helpers/migrated-database.ts';

const { pool } = await migratedTestDatabase(t, 'commit_log', 'plain', 2);

const batch = (n: number, first: number): Observation[] =>
  Array.from({ length: n }, (_, i) => ({
    deviceId: `d${first + i}`,
    metric: 'air_temperature',
    channel: '',
    time: new Date(Date.UTC(2026, 10, 1) + (first + i) * 1000),
    receivedAt: new Date(Date.UTC(2026, 10, 1, 1)),
    value: first + i,
    quality: 0,
  }));

// Entries of 3, 5, 200, 1 and 4 observations, numbered 0..212 across them.
const sizes = [3, 5, 200, 1, 4];
let numbered = 0;
for (const n of sizes) {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await appendCommitLog(client, batch(n, numbered));
    await client.query('commit');
  } finally {
    client.release();
  }
  numbered += n;
}

t.test('pages bounded by entries and by observations, in order, without gap or repeat', async (t) => {
  const pages: number[][] = [];
  const values: number[] = [];
  let after = 0;
  for (;;) {
    const page = await readCommitLog(pool, after, 3, 10);
    if (page.length === 0) break;
    pages.push(page.map((e) => e.observations.length));
    for (const e of page) for (const o of e.observations) values.push(o.value);
    after = page[page.length - 1]!.seq;
  }
  // 3 + 5 fit in 10; 200 alone exceeds it but a page holds one entry at least; 1 + 4.
  t.same(pages, [[3, 5], [200], [1, 4]]);
  t.same(values, Array.from({ length: numbered }, (_, i) => i), 'every observation once, in order');
});

t.test('the entry bound still applies under a large observation bound', async (t) => {
  const page = await readCommitLog(pool, 0, 2);
  t.same(
    page.map((e) => e.observations.length),
    [3, 5],
  );
  const first = page[0]!.observations[0]!;
  t.same(first, batch(1, 0)[0], 'observations come back as written');
});
