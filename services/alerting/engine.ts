/**
 * The live engine: feeds committed observations and timer ticks to the evaluation core, one
 * step at a time (a serial worker: no two steps interleave), persists state changes and
 * alert transitions in one transaction, then emits events and hands notifications to the
 * dispatcher without waiting for them.
 */
import { withTransaction } from '../store/transaction.ts';
import { EventEmitter } from 'node:events';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Observation } from '../../schemas/index.ts';
import type { CompiledRule } from './compiled-rule.ts';
import { EvaluationCore, type KeyState, type Transition } from './core.ts';
import type { Dispatcher } from './notify/dispatcher.ts';
import type { DeviceInfo } from './scope.ts';
import { silenceCovering } from './silence-match.ts';
import { applyTransition, closeRuleAlerts, escalationCandidates, markEscalated, orphanRuleIds, touchOpenAlerts, type AlertView } from './store/alerts.ts';
import { currentSilences, type SilenceView } from './store/silences.ts';
import { loadStates, saveStates } from './store/state.ts';

/** Observation groups (device, channel, observed time) evaluated between two yields to the event loop. */
const EVALUATION_SLICE = 500;

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export type AlertEventType = 'pending' | 'firing' | 'resolved' | 'cancelled' | 'acknowledged' | 'escalated';

export interface AlertEvent {
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
  dispatcher: Dispatcher;
  clock: Clock;
  tickMs: number;
  maxLagMs: number;
}

/** Measured per step (bench and /metrics): commit-to-event delay and work done. */
export interface StepReport {
  committedAt: number;
  doneAt: number;
  observations: number;
  transitions: number;
}

export class AlertEngine extends EventEmitter {
  readonly core: EvaluationCore;
  private clock: Clock;
  private readonly pending: Array<{ observations: readonly Observation[]; committedAt: number }> = [];
  private chain: Promise<void> = Promise.resolve();
  private draining = false;
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

  /** Called from the ingest commit hook: queues, never blocks. */
  enqueue(observations: readonly Observation[]): void {
    if (this.stopped || observations.length === 0) return;
    this.pending.push({ observations, committedAt: performance.now() });
    if (!this.draining) {
      this.draining = true;
      this.run(() => this.drain());
    }
  }

  tick(now = this.now()): Promise<void> {
    return this.run(async () => {
      this.silences = await currentSilences(this.d.pool, new Date(now));
      await this.persist(this.core.tick(now));
      await this.escalate(now);
    });
  }

  /** Replaces the rules (API change); open alerts of rules that went away are closed. */
  reloadRules(rules: CompiledRule[]): Promise<void> {
    return this.run(async () => {
      const before = new Set(this.rulesInUse());
      this.core.setRules(rules);
      const after = new Set(this.rulesInUse());
      for (const id of before) {
        if (after.has(id)) continue;
        const closed = await closeRuleAlerts(this.d.pool, id, new Date(this.now()), 'rule deleted or disabled');
        await this.d.pool.query(`delete from alert_rule_state where rule_id = $1`, [id]);
        for (const a of closed) this.publish('resolved', a);
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

  publish(type: AlertEventType, alert: AlertView): void {
    this.emit('alert', { type, alert, at: new Date(this.now()).toISOString() } satisfies AlertEvent);
  }

  private rulesInUse(): string[] {
    return this.core.ruleIds();
  }

  private run(step: () => Promise<void>): Promise<void> {
    const p = this.chain.then(step).catch((err) => this.d.logger.error({ err }, 'alerting step failed'));
    this.chain = p;
    return p;
  }

  private async drain(): Promise<void> {
    try {
      await this.drainPending();
    } finally {
      this.draining = false;
    }
  }

  private async drainPending(): Promise<void> {
    while (this.pending.length > 0) {
      const take = this.pending.splice(0, this.pending.length);
      const observations = take.length === 1 ? take[0]!.observations : take.flatMap((b) => b.observations);
      const before = { ...this.core.stats };
      // Evaluation is synchronous: slices give the event loop back (ingest, API, health) between
      // them, however many observations a burst of commits queued. Same order as one pass.
      const now = this.now();
      const batch = this.core.prepareIngest(observations, now);
      let transitions = 0;
      let out: Transition[] = [];
      for (let i = 0; i < batch.groups.length; i++) {
        if (i > 0 && i % EVALUATION_SLICE === 0) {
          transitions += out.length;
          await this.persist(out);
          out = [];
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        out.push(...this.core.evaluateGroup(batch.groups[i]!));
      }
      out.push(...this.core.finishIngest(batch, now));
      transitions += out.length;
      await this.persist(out);
      const doneAt = performance.now();
      const ins = this.d.instruments;
      if (ins) {
        ins.evaluations.inc(this.core.stats.evaluations - before.evaluations);
        ins.lateObservations.inc(this.core.stats.late - before.late);
        ins.historicalObservations.inc(this.core.stats.historical - before.historical);
        ins.stepSeconds.observe((doneAt - take[0]!.committedAt) / 1000);
      }
      this.emit('step', { committedAt: take[0]!.committedAt, doneAt, observations: observations.length, transitions } satisfies StepReport);
    }
  }

  /** One transaction for the transitions and the state rows; events and notifications after commit. */
  private async persist(transitions: Transition[]): Promise<void> {
    const dirty = this.core.takeDirty();
    if (transitions.length === 0 && dirty.length === 0) return;
    let results: Array<{ tr: Transition; alert: AlertView | null }>;
    try {
      results = await pRetry(() => this.write(transitions, dirty), {
        retries: 5,
        minTimeout: 100,
        maxTimeout: 5000,
        onFailedAttempt: ({ error }) => this.d.logger.warn({ err: error }, 'alerting: persisting transitions failed; retrying'),
      });
    } catch (err) {
      // The memory got ahead of the table: go back to what is stored, so memory and table
      // agree again (the transitions of this step are lost, never half-applied).
      this.d.logger.error({ err, transitions: transitions.length }, 'alerting: could not persist transitions; reloading state from the store');
      this.core.clearStates();
      for (const s of await loadStates(this.d.pool)) if (this.core.ruleById(s.ruleId)) this.core.loadState(s);
      return;
    }
    for (const { tr, alert } of results) {
      this.d.instruments?.transitions.inc({ kind: tr.kind });
      if (!alert) continue;
      this.publish(tr.kind, alert);
      if (tr.kind !== 'firing' && tr.kind !== 'resolved') continue;
      // Silenced alerts are recorded and streamed, never notified (maintenance windows).
      const silencedNow = tr.kind === 'resolved' && silenceCovering(this.silences, tr.rule.rule.id, tr.device, tr.channel, tr.time) !== null;
      if (alert.silenced || silencedNow) continue;
      this.d.dispatcher.send(tr.kind, alert, tr.rule.rule.notify);
    }
  }

  private async write(transitions: Transition[], dirty: KeyState[]): Promise<Array<{ tr: Transition; alert: AlertView | null }>> {
    return withTransaction(this.d.pool, async (client) => {
      const out: Array<{ tr: Transition; alert: AlertView | null }> = [];
      for (const tr of transitions) {
        const silence = tr.kind === 'firing' ? silenceCovering(this.silences, tr.rule.rule.id, tr.device, tr.channel, tr.time) : null;
        out.push({ tr, alert: await applyTransition(client, tr, silence?.id ?? null) });
      }
      const changed = new Set(transitions.map((t) => t.state));
      await touchOpenAlerts(
        client,
        dirty.filter((s) => s.phase !== 'idle' && s.alertId && !changed.has(s)).map((s) => ({ id: s.alertId!, value: s.lastValue })),
      );
      await saveStates(client, dirty);
      return out;
    });
  }

  /** Critical alerts unacknowledged past the rule's `escalate.after` are notified again. */
  private async escalate(now: number): Promise<void> {
    const candidates = await escalationCandidates(this.d.pool);
    for (const a of candidates) {
      const r = this.core.ruleById(a.ruleId);
      if (!r || r.escalateAfterMs === null || !a.firedAt) continue;
      if (now - Date.parse(a.firedAt) < r.escalateAfterMs) continue;
      const escalated = await markEscalated(this.d.pool, a.id, new Date(now), r.escalateAfterMs);
      if (!escalated) continue;
      this.publish('escalated', escalated);
      this.d.dispatcher.send('escalated', escalated, r.rule.escalate?.notify ?? r.rule.notify);
    }
  }
}
