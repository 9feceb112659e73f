/**
 * The durable commit feed: each ingest commit appends its observations to `commit_log` in the
 * same transaction, so a row exists exactly when the batch is committed. Consumers (the alert
 * evaluator, the InfluxDB mirror, every process's live stream) read it by `seq`.
 *
 * Commit order: a transaction-level advisory lock taken just before the append is held until
 * commit, so sequence numbers are handed out in commit order across every process. A reader
 * that has seen seq n therefore never meets a smaller one later (with a plain bigserial, a
 * transaction that drew n-1 could commit after n). It is the last statement of the batch's
 * transaction, so the lock covers only the append and the commit itself.
 *
 * The rows hold the observations compactly (one JSON array per observation), independent of
 * how the observations table stores them.
 */
import type pg from 'pg';
import type { Observation } from '../../schemas/index.ts';
import { APPEND_LOCK, CHANNEL, LOCK_CLASS } from './keys.ts';

/** [deviceId, metric, channel, time ms, receivedAt ms, value, quality] */
type Packed = [string, string, string, number, number, number, number];

export interface CommitEntry {
  seq: number;
  committedAt: Date;
  observations: Observation[];
}

/** Appends a committed batch's observations; call inside the batch's transaction, last. */
export async function appendCommitLog(client: pg.PoolClient, observations: readonly Observation[]): Promise<void> {
  if (observations.length === 0) return;
  const packed: Packed[] = observations.map((o) => [o.deviceId, o.metric, o.channel, o.time.getTime(), o.receivedAt.getTime(), o.value, o.quality]);
  await client.query(
    `with lock as (select pg_advisory_xact_lock($1, $2)),
          ins as (insert into commit_log (observations, payload) select $3, $4::json from lock returning seq)
     select pg_notify($5, seq::text) from ins`,
    [LOCK_CLASS, APPEND_LOCK.commitLog, observations.length, JSON.stringify(packed), CHANNEL.commit],
  );
}

function unpack(rows: Packed[]): Observation[] {
  return rows.map(([deviceId, metric, channel, t, r, value, quality]) => ({ deviceId, metric: metric as Observation['metric'], channel, time: new Date(t), receivedAt: new Date(r), value, quality }));
}

/**
 * Entries after `after`, in order, at most `limit` of them and at most `maxObservations`
 * observations (one entry at least). The bound is applied before the payloads are read: a
 * consumer behind a backlog of full batches would otherwise fetch and parse `limit` payloads
 * (a million observations) to keep a fiftieth of them.
 */
export async function readCommitLog(db: pg.Pool | pg.PoolClient, after: number, limit: number, maxObservations = Number.MAX_SAFE_INTEGER): Promise<CommitEntry[]> {
  const { rows } = await db.query<{ seq: number; committed_at: Date; payload: Packed[] }>(
    `with head as (
       select seq, sum(observations) over (order by seq) as running
         from (select seq, observations from commit_log where seq > $1 order by seq limit $2) c)
     select l.seq, l.committed_at, l.payload
       from head join commit_log l using (seq)
      where head.running <= $3 or head.seq = (select min(seq) from head)
      order by l.seq`,
    [after, limit, maxObservations],
  );
  return rows.map((r) => ({ seq: Number(r.seq), committedAt: r.committed_at, observations: unpack(r.payload) }));
}

export async function lastCommitSeq(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ seq: number | null }>(`select max(seq) as seq from commit_log`);
  return Number(rows[0]?.seq ?? 0);
}

/** Oldest seq still held (0 when empty): a stream client behind it must re-read history. */
export async function firstCommitSeq(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ seq: number | null }>(`select min(seq) as seq from commit_log`);
  return Number(rows[0]?.seq ?? 0);
}

/**
 * Drops entries every consumer has passed and that are older than `retentionMs` (the live
 * streams' replay window). A consumer silent for `staleMs` (a mirror switched off) stops
 * holding the feed back. Returns the number of entries removed.
 */
export async function pruneCommitLog(db: pg.Pool, retentionMs: number, staleMs: number): Promise<number> {
  const { rows } = await db.query<{ n: number; upto: number | null }>(
    `with gone as (
       delete from commit_log where committed_at < now() - make_interval(secs => $1::float8 / 1000)
          and seq <= coalesce((select min(seq) from commit_consumers where name not like '#%' and updated_at > now() - make_interval(secs => $2::float8 / 1000)), 9223372036854775807)
       returning seq),
     mark as (
       insert into commit_consumers (name, seq) select '${PRUNED}', max(seq) from gone having count(*) > 0
       on conflict (name) do update set seq = greatest(commit_consumers.seq, excluded.seq), updated_at = now())
     select count(*)::int as n from gone`,
    [retentionMs, staleMs],
  );
  return rows[0]?.n ?? 0;
}

/** Row of commit_consumers that records the highest pruned seq (not a consumer). */
const PRUNED = '#pruned';

export async function prunedUpTo(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ seq: number }>(`select seq from commit_consumers where name = $1`, [PRUNED]);
  return Number(rows[0]?.seq ?? 0);
}
