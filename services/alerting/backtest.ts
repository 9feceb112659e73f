/**
 * Backtest: runs one rule over stored history with the same evaluation core as the live
 * engine, replaying observed time as "now" (so `for`, rates and missing data behave as
 * they would have live), without writing alerts or notifying anyone.
 */
import type pg from 'pg';
import Cursor from 'pg-cursor';
import type { Observation } from '../../schemas/index.ts';
import type { Rule } from '../../schemas/alerting.ts';
import { compileRule } from './compiled-rule.ts';
import { defaultStalenessMs } from './conditions.ts';
import { EvaluationCore, type TransitionKind } from './core.ts';
import { matchesScope, type DeviceInfo } from './scope.ts';

export interface BacktestRequest {
  rule: Rule;
  from: Date;
  to: Date;
  devices?: string[];
  /** Replay granularity of the timer (missing data, `for` expiry); times stay exact. */
  tickMs?: number;
  /** Refuse more than this many observations (protects the API). */
  maxObservations?: number;
}

export interface BacktestTransition {
  time: string;
  kind: TransitionKind;
  deviceId: string;
  channel: string;
  value: number | null;
  reason: string;
}

export interface BacktestEpisode {
  deviceId: string;
  channel: string;
  pendingAt: string | null;
  firedAt: string | null;
  resolvedAt: string | null;
}

export interface BacktestResult {
  ruleId: string;
  from: string;
  to: string;
  devices: number;
  observations: number;
  transitions: BacktestTransition[];
  /** Would-be alerts: from pending (or firing) to resolved, or still open at `to`. */
  alerts: BacktestEpisode[];
}

export class BacktestTooLargeError extends Error {
  readonly code = 'VIGIE_ERR_BACKTEST_TOO_LARGE';
  readonly statusCode = 413;
}

export async function runBacktest(pool: pg.Pool, deviceInfo: (id: string) => DeviceInfo, req: BacktestRequest): Promise<BacktestResult> {
  const compiled = compileRule(req.rule, 'api', null);
  const core = new EvaluationCore(deviceInfo, Number.POSITIVE_INFINITY);
  core.setRules([{ ...compiled, rule: { ...compiled.rule, enabled: true } }]);
  const from = req.from.getTime();
  const to = req.to.getTime();
  const tickMs = req.tickMs ?? 60_000;
  const maxObservations = req.maxObservations ?? 5_000_000;

  const { rows: deviceRows } = await pool.query<{ id: string }>(`select id from devices order by id`);
  let devices = deviceRows.map((r) => deviceInfo(r.id)).filter((d) => matchesScope(req.rule.scope, d));
  if (req.devices) devices = devices.filter((d) => req.devices!.includes(d.id));
  const ids = devices.map((d) => d.id);
  // Missing-data rules about the whole device need every metric; others only theirs.
  const metrics = compiled.missing && !compiled.missing.metric ? null : compiled.metrics;
  // Warm-up before `from`: enough for the rate windows and the staleness guard.
  const warmMs = Math.max(0, ...compiled.rateWindows.values(), compiled.stalenessMs ?? Math.max(15 * 60_000, ...devices.map(defaultStalenessMs)), compiled.missing ? compiled.missing.afterMs : 0);

  const client = await pool.connect();
  const transitions: BacktestTransition[] = [];
  let count = 0;
  try {
    const cursor = client.query(
      new Cursor(
        `select device_id, metric, channel, time, value from observations
          where device_id = any($1::text[]) and ($2::text[] is null or metric = any($2::text[])) and time >= $3 and time <= $4
          order by time, device_id`,
        [ids, metrics, new Date(from - warmMs), req.to],
      ),
    );
    let lastTick = -Infinity;
    let group: Observation[] = [];
    let groupT = -Infinity;
    const record = (trs: ReturnType<EvaluationCore['ingest']>) => {
      for (const tr of trs) {
        if (tr.time < from) continue;
        transitions.push({ time: new Date(tr.time).toISOString(), kind: tr.kind, deviceId: tr.device.id, channel: tr.channel, value: tr.value, reason: tr.reason });
      }
    };
    const flush = () => {
      if (group.length === 0) return;
      if (groupT < from) {
        for (const o of group) core.memory.add(o.deviceId, o.metric, o.channel, groupT, o.value);
      } else {
        // The timer as it stood just before this reading: a reading at the very instant a
        // `for` would elapse decides, as it would live when it arrives first.
        if (groupT - lastTick >= tickMs) {
          record(core.tick(groupT - 1));
          lastTick = groupT;
        }
        record(core.ingest(group, groupT));
      }
      group = [];
    };
    for (;;) {
      const rows = await cursor.read(5000);
      if (rows.length === 0) break;
      count += rows.length;
      if (count > maxObservations) throw new BacktestTooLargeError(`more than ${maxObservations} observations in range: narrow the time range or the devices`);
      for (const r of rows) {
        const t = (r.time as Date).getTime();
        if (t !== groupT) {
          flush();
          groupT = t;
        }
        group.push({ deviceId: r.device_id, metric: r.metric, channel: r.channel, time: r.time, receivedAt: r.time, value: r.value, quality: 0 });
      }
    }
    flush();
    await cursor.close();
    record(core.tick(to));
  } finally {
    client.release();
  }
  return {
    ruleId: req.rule.id,
    from: req.from.toISOString(),
    to: req.to.toISOString(),
    devices: devices.length,
    observations: count,
    transitions,
    alerts: episodes(transitions),
  };
}

function episodes(transitions: BacktestTransition[]): BacktestEpisode[] {
  const open = new Map<string, BacktestEpisode>();
  const out: BacktestEpisode[] = [];
  for (const t of transitions) {
    const k = `${t.deviceId}\u0000${t.channel}`;
    let e = open.get(k);
    if (!e) {
      e = { deviceId: t.deviceId, channel: t.channel, pendingAt: null, firedAt: null, resolvedAt: null };
      open.set(k, e);
      out.push(e);
    }
    if (t.kind === 'pending') e.pendingAt = t.time;
    if (t.kind === 'firing') e.firedAt = t.time;
    if (t.kind === 'resolved' || t.kind === 'cancelled') {
      e.resolvedAt = t.time;
      open.delete(k);
    }
  }
  return out;
}

/** A human timeline, one line per transition (the CLI prints it). */
export function formatTimeline(r: BacktestResult): string {
  const lines = [`rule ${r.ruleId}: ${r.from} .. ${r.to}, ${r.devices} device(s), ${r.observations} observation(s)`];
  for (const t of r.transitions) {
    const where = `${t.deviceId}${t.channel ? `/${t.channel}` : ''}`;
    lines.push(`${t.time}  ${t.kind.padEnd(9)} ${where.padEnd(28)} ${t.value === null ? '' : String(t.value).padEnd(8)} ${t.reason}`);
  }
  const fired = r.alerts.filter((a) => a.firedAt).length;
  lines.push(`${fired} alert(s) would have fired; ${r.alerts.filter((a) => a.firedAt && !a.resolvedAt).length} still open at the end`);
  return lines.join('\n');
}
