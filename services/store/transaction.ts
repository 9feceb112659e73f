/**
 * One transaction on a pooled connection: begin, run, commit; rollback on any error (the
 * original error is rethrown, a failed rollback only means the connection is gone); the
 * connection always goes back to the pool.
 */
import type pg from 'pg';

export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
