/**
 * Dead-letter replay: re-runs stored rejections through the current decoders, profiles and
 * routes (after a profile or a formatter was added, say). Rows of one message (same payload
 * and topic) are decoded once. What now decodes is committed through the running sink (the
 * same commit path as MQTT, so alerting sees it); observations are idempotent by key, and
 * the message keeps its first receive time, so a replay can never duplicate one.
 * - A row whose rejection no longer happens is marked replayed and is never selected again.
 * - A row that fails the same way again keeps its place, with the new reason and one more attempt.
 * - A new rejection (e.g. out of range once the key is mapped) becomes a dead letter of its own.
 * - A truncated payload cannot be replayed (VIGIE_DEAD_LETTER_MAX_BYTES cut it) and is skipped.
 * - Replays run with a decoder state of their own: an old Sparkplug message must neither move a
 *   live node's seq nor be read with another session's aliases (alias-only DATA fails again).
 */
import type pg from 'pg';
import type { InboundMessage } from '../../ingest/decoder.ts';
import { processMessage } from '../../ingest/process-message.ts';
import type { IngestRuntime } from '../ingest-runtime.ts';
import { VigieError } from '../errors.ts';
import { markFailedAgain, markReplayed, REPLAY_LOCK_KEY, selectForReplay, type ReplayRow } from '../store/dead-letter-replay.ts';
import type { DeadLetterQuery } from '../store/dead-letters.ts';

export interface ReplayReport {
  /** Dead-letter rows selected (not replayed before). */
  selected: number;
  /** Distinct messages re-run. */
  messages: number;
  /** Messages that now decode without any rejection. */
  stored: number;
  /** Messages that still yield at least one rejection. */
  failed: number;
  /** Messages that cannot be replayed (payload truncated when it was dead-lettered). */
  skipped: number;
  observations: number;
  /** Dead-letter rows now resolved (marked replayed). */
  resolved: number;
}

export async function replayDeadLetters(
  pool: pg.Pool,
  ingest: IngestRuntime,
  q: { ids?: number[]; filter: Omit<DeadLetterQuery, 'limit' | 'before' | 'status'>; limit: number },
): Promise<ReplayReport> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query('select pg_try_advisory_lock($1) as ok', [REPLAY_LOCK_KEY]);
    if (!rows[0].ok) throw new VigieError('VIGIE_ERR_REPLAY_BUSY', 'another replay is running; try again when it has finished', { statusCode: 409 });
    try {
      return await replay(client, ingest, await selectForReplay(client, q));
    } finally {
      await client.query('select pg_advisory_unlock($1)', [REPLAY_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

async function replay(client: pg.PoolClient, ingest: IngestRuntime, rows: ReplayRow[]): Promise<ReplayReport> {
  const report: ReplayReport = { selected: rows.length, messages: 0, stored: 0, failed: 0, skipped: 0, observations: 0, resolved: 0 };
  const groups = new Map<string, ReplayRow[]>();
  for (const r of rows) {
    const key = `${r.sha}|${r.topic}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const group of groups.values()) {
    report.messages += 1;
    const first = group[0]!;
    if (first.payload.length < first.payloadSize) {
      report.skipped += 1;
      continue;
    }
    const message: InboundMessage = { topic: first.topic, payload: first.payload, receivedAt: first.firstReceived };
    const isolated = new Map<string, Map<string, unknown>>();
    const options = {
      ...ingest.processOptions,
      context: {
        ...ingest.processOptions.context,
        state: (decoder: string) => {
          let st = isolated.get(decoder);
          if (!st) isolated.set(decoder, (st = new Map()));
          return st;
        },
      },
    };
    const processed = processMessage(message, options);
    const same = (code: string, field: string) => processed.deadLetters.find((d) => d.code === code && (d.field ?? '') === field);
    const known = new Set(group.map((r) => `${r.code}|${r.field}`));
    const fresh = processed.deadLetters.filter((d) => !known.has(`${d.code}|${d.field ?? ''}`));
    // Commit through the running sink; replayed messages publish no commands (a rebirth
    // request for an old message would disturb a node that is fine now).
    await new Promise<void>((resolve) => {
      ingest.sink.push({ observations: processed.observations, deadLetters: fresh, deviceId: processed.deviceId, deviceInfo: processed.deviceInfo }, message, resolve);
    });
    report.observations += processed.observations.length;
    const resolvedIds: number[] = [];
    const failures: Array<{ id: number; reason: string }> = [];
    for (const r of group) {
      const again = same(r.code, r.field);
      if (again) failures.push({ id: r.id, reason: again.reason });
      else resolvedIds.push(r.id);
    }
    await markReplayed(client, resolvedIds);
    await markFailedAgain(client, failures);
    report.resolved += resolvedIds.length;
    if (processed.deadLetters.length === 0) report.stored += 1;
    else report.failed += 1;
  }
  return report;
}
