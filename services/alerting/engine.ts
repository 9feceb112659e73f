/**
 * The live engine: feeds committed observations (read from the durable commit feed, see
 * services/cluster/feed-consumer.ts) and timer ticks to the evaluation core, one step at a
 * time (a serial worker: no two steps interleave). Each step writes, in ONE transaction, the
 * alert transitions, the rule states, the alert events (alert_stream, which every process's
 * live stream serves), the notifications to deliver (alert_outbox) and the new feed position.
 * A failover therefore resumes exactly where the last committed step ended: nothing skipped,
 * nothing evaluated twice, and every notification either queued or not at all with its cause.
 */
import { withTransaction } from '../store/transaction.ts';
import { EventEmitter } from 'node:events';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Observation } from '../../schemas/index.ts';
import type { CompiledRule } from './compiled-rule.ts';
import { EvaluationCore, type KeyState, type Transition } from './core.ts';
import { randomUUID } from 'node:crypto';
import type { NotifyTarget } from '../../schemas/alerting.ts';
import { advancePosition, type Position } from '../cluster/feed-consumer.ts';
import type { CommitEntry } from '../cluster/commit-log.ts';
import { appendAlertStream, enqueueNotifications } from './store/outbox.ts';
import type { DeviceInfo } from './scope.ts';
import { silenceCovering } from './silence-match.ts';
import { applyTransition, closeRuleAlerts, escalationCandidates, markEscalated, orphanRuleIds, touchOpenAlerts, type AlertView } from './store/alerts.ts';
import { currentSilences, type SilenceView } from './store/silences.ts';
import { loadStates, saveStates } from './store/state.ts';

/** Observation groups (device, channel, observed time) evaluated between two yields to the event loop. */
const EVALUATION_SLICE = 500;

/**
 * Splits a step's observations (several commits, possibly from several processes) into
 * layers, oldest first, in which each series appears at one observed time only: conditions
 * read a series' latest value, so a layer holding two periods of one series would evaluate
 * the older period with the newer value. Layer by layer plays the periods in order.
 */
export function layers(observations: readonly Observation[]): Observation[][] {
  const sorted = [...observations].sort((a, b) => a.time.getTime() - b.time.getTime());
  const out: Observation[][] = [];
  let current: Observation[] = [];
  let times = new Map<string, number>();
  for (const o of sorted) {
    const k = `${o.deviceId}\u0000${o.metric}\u0000${o.channel}`;
    const t = o.time.getTime();
    const seen = times.get(k);
    if (seen !== undefined && seen !== t) {
      out.push(current);
      current = [];
      times = new Map();
    }
    times.set(k, t);
    current.push(o);
  }
  if (current.length > 0) out.push(current);
  return out;
}

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export type AlertEventType = 'pending' | 'firing' | 'resolved' | 'cancelled' | 'acknowledged' | 'escalated';

export interface AlertEvent {
  /** Stable event id (UUID): the SSE id base and the notifications' `id`. */
  id?: string;
  type: AlertEventType;
  alert: AlertView;
  /** Wall time the engine emitted it. */
  at: string;
}

export interface EngineInstruments {
  evaluations: { inc(n: number): void };
  transitions: { inc(labels: { kind: string }, n?: number): void };
  stepSeconds: { observe(v: number): void };
  lateObservations: { inc(n: number): void };
  historicalObservations: { inc(n: number): void };
}

export interface EngineDeps {
  instruments?: EngineInstruments;
  pool: pg.Pool;
  logger: Logger;
  deviceInfo: (id: string) => DeviceInfo;
  clock: Clock;
  /** Position in the commit feed: every write checks its epoch (fencing) and moves it. */
  position?: Position;
  tickMs: number;
  maxLagMs: number;
}

/** Measured per step (bench and /metrics): commit (database clock) to persisted step (wall clock), in epoch ms, and work done. */
export interface StepReport {
  committedAt: number;
  doneAt: number;
  observations: number;
  transitions: number;
}

export class AlertEngine extends EventEmitter {
  readonly core: EvaluationCore;
  private clock: Clock;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private silences: SilenceView[] = [];
  private stopped = false;

  constructor(private readonly d: EngineDeps) {
    super();
    this.setMaxListeners(0);
    this.clock = d.clock;
    this.core = new EvaluationCore(d.deviceInfo, d.maxLagMs);
  }

  now(): number {
    return this.clock.now();
  }

  /** True once stopped: an engine runs one tenure of the `alerting` role. */
  get finished(): boolean {
    return this.stopped;
  }

  /** The feed position this engine advances (and whose epoch fences its writes). */
  attach(position: Position): void {
    this.d.position = position;
  }

  /** Test seam: scenario tests drive "now" by hand instead of sleeping. */
  setClock(clock: Clock): void {
    this.clock = clock;
  }

  async start(rules: CompiledRule[]): Promise<void> {
    this.core.setRules(rules);
    for (const s of await loadStates(this.d.pool)) if (this.core.ruleById(s.ruleId)) this.core.loadState(s);
    // Rules removed from the folder (or disabled) while Vigie was down: close what they left open.
    for (const id of await orphanRuleIds(this.d.pool, this.core.ruleIds())) {
      await closeRuleAlerts(this.d.pool, id, new Date(this.now()), 'rule removed or disabled');
      await this.d.pool.query(`delete from alert_rule_state where rule_id = $1`, [id]);
    }
    await this.warmMemory();
    await this.awaitSilentDevices();
    this.silences = await currentSilences(this.d.pool, new Date(this.now()));
    // A slow tick (database trouble) must not pile up more ticks behind it.
    let ticking = false;
    this.timer = setInterval(() => {
      if (ticking) return;
      ticking = true;
      void this.tick().finally(() => (ticking = false));
    }, this.d.tickMs);
    this.timer.unref();
  }

  /** Latest values, then the history rate rules need, from the store (once, at start). */
  private async warmMemory(): Promise<void> {
    const { rows } = await this.d.pool.query(`select device_id, metric, channel, time, value from latest_observations`);
    for (const r of rows) this.core.memory.add(r.device_id, r.metric, r.channel, (r.time as Date).getTime(), r.value);
    for (const [metric, windowMs] of this.core.retentionByMetric()) {
      const h = await this.d.pool.query(`select device_id, channel, time, value from observations where metric = $1 and time >= $2 order by time`, [
        metric,
        new Date(this.now() - 2 * windowMs),
      ]);
      for (const r of h.rows) this.core.memory.add(r.device_id, metric, r.channel, (r.time as Date).getTime(), r.value);
    }
  }

  /** Registered devices never heard from: silent since the engine first saw them registered. */
  private async awaitSilentDevices(): Promise<void> {
    await this.d.pool.query(
      `insert into alert_awaited_devices (device_id, since) select id, $1 from devices where registered and last_seen is null on conflict do nothing`,
      [new Date(this.now())],
    );
    const { rows } = await this.d.pool.query(
      `select a.device_id, a.since from alert_awaited_devices a join devices d on d.id = a.device_id where d.registered and d.last_seen is null`,
    );
    for (const r of rows) this.core.awaitDevice(r.device_id, (r.since as Date).getTime());
  }

  /**
   * Evaluates committed feed entries (called by the commit feed consumer, which waits for it):
   * the transitions, states and the new position are written in one transaction.
   */
  consume(entries: CommitEntry[]): Promise<void> {
    const observations = entries.length === 1 ? entries[0]!.observations : entries.flatMap((e) => e.observations);
    const committedAt = entries[0]!.committedAt.getTime();
    const upTo = entries[entries.length - 1]!.seq;
    let failure: unknown;
    const step = this.run(async () => {
      try {
        await this.evaluate(observations, committedAt, upTo);
      } catch (err) {
        failure = err;
      }
    });
    return step.then(() => {
      if (failure) throw failure;
    });
  }

  tick(now = this.now()): Promise<void> {
    return this.run(async () => {
      this.silences = await currentSilences(this.d.pool, new Date(now));
      await this.persist(this.core.tick(now));
      await this.escalate(now);
    });
  }

  /** Replaces the rules (API change, rule files changed); open alerts of rules that went away are closed. */
  reloadRules(rules: CompiledRule[]): Promise<void> {
    return this.run(async () => {
      const before = new Set(this.rulesInUse());
      this.core.setRules(rules);
      const after = new Set(this.rulesInUse());
      for (const id of before) {
        if (after.has(id)) continue;
        const closed = await withTransaction(this.d.pool, async (client) => {
          await this.fence(client);
          const alerts = await closeRuleAlerts(client, id, new Date(this.now()), 'rule deleted or disabled');
          await client.query(`delete from alert_rule_state where rule_id = $1`, [id]);
          const events = alerts.map((a) => this.event('resolved', a));
          await appendAlertStream(client, events);
          return events;
        });
        for (const e of closed) this.emit('alert', e);
      }
    });
  }

  refreshSilences(): Promise<void> {
    return this.run(async () => {
      this.silences = await currentSilences(this.d.pool, new Date(this.now()));
    });
  }

  /** Resolves when everything queued so far is processed. */
  idle(): Promise<void> {
    return this.run(async () => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.chain;
  }

  /** An event as the stream and notifications carry it (its id is fixed here, once). */
  event(type: AlertEventType, alert: AlertView): AlertEvent {
    // Key order as before the stream was shared: type, alert, at, then the id.
    return { type, alert, at: new Date(this.now()).toISOString(), id: randomUUID() };
  }

  private rulesInUse(): string[] {
    return this.core.ruleIds();
  }

  private run(step: () => Promise<void>): Promise<void> {
    const p = this.chain.then(step).catch((err) => this.d.logger.error({ err }, 'alerting step failed'));
    this.chain = p;
    return p;
  }

  private async evaluate(observations: readonly Observation[], committedAt: number, upTo: number): Promise<void> {
    if (this.stopped) throw new Error('alerting engine stopped');
    const before = { ...this.core.stats };
    // Evaluation is synchronous: slices give the event loop back (ingest, API, health) between
    // them, however many observations a burst of commits brought. Same order as one pass.
    const now = this.now();
    const out: Transition[] = [];
    let groups = 0;
    for (const layer of layers(observations)) {
      const batch = this.core.prepareIngest(layer, now);
      for (const g of batch.groups) {
        if (++groups % EVALUATION_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        out.push(...this.core.evaluateGroup(g));
      }
      out.push(...this.core.finishIngest(batch, now));
    }
    const ok = await this.persist(out, upTo);
    if (!ok) throw new Error('alerting: step not persisted; the feed position did not move');
    const doneAt = Date.now();
    const ins = this.d.instruments;
    if (ins) {
      ins.evaluations.inc(this.core.stats.evaluations - before.evaluations);
      ins.lateObservations.inc(this.core.stats.late - before.late);
      ins.historicalObservations.inc(this.core.stats.historical - before.historical);
      ins.stepSeconds.observe((doneAt - committedAt) / 1000);
    }
    this.emit('step', { committedAt, doneAt, observations: observations.length, transitions: out.length } satisfies StepReport);
  }

  /** Checks that this engine still holds the feed (epoch), inside the caller's transaction. */
  private async fence(client: pg.PoolClient, upTo?: number): Promise<void> {
    const p = this.d.position;
    if (p) await advancePosition(client, p, upTo ?? p.seq);
  }

  /**
   * One transaction for the transitions, the state rows, the events, the notifications and
   * the feed position; events are emitted in this process after commit. Returns false when
   * the step could not be written (the memory is then reloaded from the store).
   */
  private async persist(transitions: Transition[], upTo?: number): Promise<boolean> {
    const dirty = this.core.takeDirty();
    if (transitions.length === 0 && dirty.length === 0 && upTo === undefined) return true;
    let events: AlertEvent[];
    try {
      events = await pRetry(() => this.write(transitions, dirty, upTo), {
        retries: 5,
        minTimeout: 100,
        maxTimeout: 5000,
        shouldRetry: ({ error }) => (error as { code?: string }).code !== 'VIGIE_ERR_FENCED',
        onFailedAttempt: ({ error }) => this.d.logger.warn({ err: error }, 'alerting: persisting transitions failed; retrying'),
      });
    } catch (err) {
      // The memory got ahead of the table: go back to what is stored, so memory and table
      // agree again (the step is not applied, and the feed position did not move: it is
      // evaluated again from the store's state).
      this.d.logger.error({ err, transitions: transitions.length }, 'alerting: could not persist transitions; reloading state from the store');
      this.core.clearStates();
      for (const s of await loadStates(this.d.pool)) if (this.core.ruleById(s.ruleId)) this.core.loadState(s);
      if ((err as { code?: string }).code === 'VIGIE_ERR_FENCED') throw err;
      return false;
    }
    if (upTo !== undefined && this.d.position) this.d.position.seq = Math.max(this.d.position.seq, upTo);
    for (const tr of transitions) this.d.instruments?.transitions.inc({ kind: tr.kind });
    for (const e of events) this.emit('alert', e);
    return true;
  }

  private async write(transitions: Transition[], dirty: KeyState[], upTo?: number): Promise<AlertEvent[]> {
    return withTransaction(this.d.pool, async (client) => {
      await this.fence(client, upTo);
      const events: AlertEvent[] = [];
      const notifications: Array<{ event: AlertEvent; targets: NotifyTarget[] }> = [];
      for (const tr of transitions) {
        const silence = tr.kind === 'firing' ? silenceCovering(this.silences, tr.rule.rule.id, tr.device, tr.channel, tr.time) : null;
        const alert = await applyTransition(client, tr, silence?.id ?? null);
        if (!alert) continue;
        const e = this.event(tr.kind, alert);
        events.push(e);
        if (tr.kind !== 'firing' && tr.kind !== 'resolved') continue;
        // Silenced alerts are recorded and streamed, never notified (maintenance windows).
        const silencedNow = tr.kind === 'resolved' && silenceCovering(this.silences, tr.rule.rule.id, tr.device, tr.channel, tr.time) !== null;
        if (alert.silenced || silencedNow) continue;
        notifications.push({ event: e, targets: tr.rule.rule.notify });
      }
      const changed = new Set(transitions.map((t) => t.state));
      await touchOpenAlerts(
        client,
        dirty.filter((s) => s.phase !== 'idle' && s.alertId && !changed.has(s)).map((s) => ({ id: s.alertId!, value: s.lastValue })),
      );
      await saveStates(client, dirty);
      await appendAlertStream(client, events);
      await enqueueNotifications(client, notifications);
      return events;
    });
  }

  /** Critical alerts unacknowledged past the rule's `escalate.after` are notified again. */
  private async escalate(now: number): Promise<void> {
    const candidates = await escalationCandidates(this.d.pool);
    for (const a of candidates) {
      const r = this.core.ruleById(a.ruleId);
      if (!r || r.escalateAfterMs === null || !a.firedAt) continue;
      if (now - Date.parse(a.firedAt) < r.escalateAfterMs) continue;
      const e = await withTransaction(this.d.pool, async (client) => {
        await this.fence(client);
        const escalated = await markEscalated(client, a.id, new Date(now), r.escalateAfterMs!);
        if (!escalated) return null;
        const ev = this.event('escalated', escalated);
        await appendAlertStream(client, [ev]);
        await enqueueNotifications(client, [{ event: ev, targets: r.rule.escalate?.notify ?? r.rule.notify }]);
        return ev;
      });
      if (e) this.emit('alert', e);
    }
  }
}

