/**
 * The evaluation core, shared by the live engine and backtests: rules, memory and per-key
 * state (rule, device, channel) in, transitions out. No I/O and no clock of its own: callers
 * pass the observed times and "now", which makes it deterministic and testable.
 *
 * Time rules (documented in docs/alerting.md, "Alerting"):
 * - Conditions and `for` durations run on observed time. A key evaluates an observation only
 *   if it is not older than the key's last evaluation: late, out-of-order points update the
 *   memory (latest values, rate history) but never rewrite the live state backwards.
 * - Observations older than `maxLagMs` before "now" are history, not news: they feed memory
 *   and backtests, but do not open or close alerts, so a backfill cannot raise stale alerts.
 * - Missing data and `for` expiry are found by `tick(now)`, "now" being wall time (live) or
 *   the replayed time (backtest).
 */
import type { Observation } from '../../schemas/index.ts';
import type { ConsecutiveCondition } from '../../schemas/alerting.ts';
import type { CompiledRule } from './compiled-rule.ts';
import { defaultStalenessMs, evaluate, freshValue, primaryValue, type EvalContext } from './conditions.ts';
import { matchesChannel, matchesScope, type DeviceInfo } from './scope.ts';
import { SeriesMemory } from './series-memory.ts';

export type Phase = 'idle' | 'pending' | 'firing';

export interface KeyState {
  ruleId: string;
  deviceId: string;
  channel: string;
  phase: Phase;
  /** Observed time the condition started to hold (pending or firing). */
  since: number | null;
  firedAt: number | null;
  /** Observed time of the last evaluation of this key (guards against going backwards). */
  lastEval: number | null;
  /** Observed time the condition last held. */
  lastTrue: number | null;
  lastValue: number | null;
  /** Consecutive-period count: periods in a row where the inner condition held. */
  streak: { t: number; before: number; count: number } | null;
  /** Id of the open alert, set by whoever persists transitions. */
  alertId: string | null;
}

export type TransitionKind = 'pending' | 'firing' | 'resolved' | 'cancelled';

export interface Transition {
  kind: TransitionKind;
  rule: CompiledRule;
  device: DeviceInfo;
  channel: string;
  /** Observed time of the transition. */
  time: number;
  value: number | null;
  /** Fresh value of every metric the rule reads, at the transition (for people reading the alert). */
  values: Record<string, number>;
  state: KeyState;
  reason: string;
}

export interface CoreStats {
  evaluations: number;
  late: number;
  historical: number;
}

export const stateKey = (ruleId: string, deviceId: string, channel: string) => `${ruleId}\u0000${deviceId}\u0000${channel}`;

/** Observations of one device and channel at one observed time: evaluated together. */
export interface IngestGroup {
  device: string;
  channel: string;
  t: number;
  metrics: Set<string>;
}

export interface IngestBatch {
  groups: IngestGroup[];
  touched: Set<string>;
}

export class EvaluationCore {
  readonly memory = new SeriesMemory(() => 0);
  private rules: CompiledRule[] = [];
  private byId = new Map<string, CompiledRule>();
  private byMetric = new Map<string, CompiledRule[]>();
  private missingRules: CompiledRule[] = [];
  private readonly states = new Map<string, KeyState>();
  /** Registered devices never heard from, with when the engine started waiting for them. */
  private readonly awaited = new Map<string, number>();
  private readonly active = new Set<string>();
  private readonly scopeCache = new Map<string, { set: Set<CompiledRule>; missing: CompiledRule[] }>();
  /** Keys whose state changed since the last `takeDirty()` (the live engine persists them). */
  private readonly dirty = new Set<string>();
  readonly stats: CoreStats = { evaluations: 0, late: 0, historical: 0 };

  constructor(
    private readonly deviceInfo: (id: string) => DeviceInfo,
    private readonly maxLagMs: number,
  ) {}

  setRules(rules: CompiledRule[]): void {
    this.rules = rules.filter((r) => r.rule.enabled);
    this.byId = new Map(this.rules.map((r) => [r.rule.id, r]));
    this.byMetric = new Map();
    this.missingRules = [];
    const retain = new Map<string, number>();
    for (const r of this.rules) {
      if (r.missing) {
        this.missingRules.push(r);
        continue;
      }
      for (const m of r.metrics) {
        const list = this.byMetric.get(m) ?? [];
        list.push(r);
        this.byMetric.set(m, list);
      }
      for (const [m, w] of r.rateWindows) retain.set(m, Math.max(retain.get(m) ?? 0, w));
    }
    this.memory.setRetention((m) => retain.get(m) ?? 0);
    this.scopeCache.clear();
    // Keys of rules that are gone or disabled are dropped (their open alerts are closed by the caller).
    const ids = new Set(this.rules.map((r) => r.rule.id));
    for (const [k, s] of this.states) if (!ids.has(s.ruleId)) this.deleteState(k);
  }

  /** History each metric needs, to warm the memory at start. */
  retentionByMetric(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.rules) for (const [m, w] of r.rateWindows) out.set(m, Math.max(out.get(m) ?? 0, w));
    return out;
  }

  ruleIds(): string[] {
    return this.rules.map((r) => r.rule.id);
  }

  ruleById(id: string): CompiledRule | undefined {
    return this.byId.get(id);
  }

  /**
   * A registered device that never reported is silent since it was registered: without
   * this, a station that never came up would never raise its offline alert.
   */
  awaitDevice(deviceId: string, since: number): void {
    if (this.memory.deviceLastSeen(deviceId) === undefined) this.awaited.set(deviceId, since);
  }

  /** Forgets every key state (before reloading them from the store). */
  clearStates(): void {
    this.states.clear();
    this.active.clear();
    this.dirty.clear();
  }

  loadState(s: KeyState): void {
    const k = stateKey(s.ruleId, s.deviceId, s.channel);
    this.states.set(k, s);
    if (s.phase !== 'idle') this.active.add(k);
  }

  getState(ruleId: string, deviceId: string, channel: string): KeyState | undefined {
    return this.states.get(stateKey(ruleId, deviceId, channel));
  }

  /** States changed since the last call (to persist). */
  takeDirty(): KeyState[] {
    const out: KeyState[] = [];
    for (const k of this.dirty) {
      const s = this.states.get(k);
      if (s) out.push(s);
    }
    this.dirty.clear();
    return out;
  }

  /** Feeds committed observations; returns the transitions they cause. */
  ingest(observations: readonly Observation[], now: number): Transition[] {
    const batch = this.prepareIngest(observations, now);
    const out: Transition[] = [];
    for (const g of batch.groups) out.push(...this.evaluateGroup(g));
    out.push(...this.finishIngest(batch, now));
    return out;
  }

  /**
   * First half of `ingest`: every value into memory, then the (device, channel, observed time)
   * groups to evaluate, oldest first, so a batch holding several periods of one device plays in
   * order. The engine evaluates the groups in slices, yielding between them.
   */
  prepareIngest(observations: readonly Observation[], now: number): IngestBatch {
    const groups = new Map<string, IngestGroup>();
    const touched = new Set<string>();
    for (const o of observations) {
      const t = o.time.getTime();
      this.memory.add(o.deviceId, o.metric, o.channel, t, o.value);
      touched.add(o.deviceId);
      if (now - t > this.maxLagMs) {
        this.stats.historical++;
        continue;
      }
      const gk = `${o.deviceId}\u0000${o.channel}\u0000${t}`;
      let g = groups.get(gk);
      if (!g) groups.set(gk, (g = { device: o.deviceId, channel: o.channel, t, metrics: new Set() }));
      g.metrics.add(o.metric);
    }
    return { groups: [...groups.values()].sort((a, b) => a.t - b.t), touched };
  }

  /** The rules one group of a prepared batch triggers. */
  evaluateGroup(g: IngestGroup): Transition[] {
    const out: Transition[] = [];
    const device = this.deviceInfo(g.device);
    const rules = new Set<CompiledRule>();
    for (const m of g.metrics) for (const r of this.byMetric.get(m) ?? []) rules.add(r);
    if (rules.size === 0) return out;
    const inScope = this.scoped(device).set;
    for (const r of rules) {
      if (!inScope.has(r) || !matchesChannel(r.rule.scope, g.channel)) continue;
      const tr = this.evaluateKey(r, device, g.channel, g.t);
      if (tr) out.push(tr);
    }
    return out;
  }

  /** Last half of `ingest`: a device heard again recovers from its missing-data alerts. */
  finishIngest(batch: IngestBatch, now: number): Transition[] {
    const out: Transition[] = [];
    for (const id of batch.touched) out.push(...this.checkMissing(id, now, true));
    return out;
  }

  /** What only time reveals: `for` durations that elapsed, devices and metrics gone silent. */
  tick(now: number): Transition[] {
    const out: Transition[] = [];
    for (const k of [...this.active]) {
      const s = this.states.get(k)!;
      if (s.phase !== 'pending') continue;
      const r = this.ruleById(s.ruleId);
      if (!r || r.missing || s.since === null || s.lastTrue === null) continue;
      const device = this.deviceInfo(s.deviceId);
      const staleness = r.stalenessMs ?? defaultStalenessMs(device);
      // Fire only if the condition's inputs are still fresh: a silent station is not icy.
      if (now - s.since >= r.forMs && now - s.lastTrue <= staleness) {
        out.push(this.fire(r, device, s, s.since + r.forMs, s.lastValue, `held for ${r.rule.for}`));
      }
    }
    for (const id of this.memory.devices()) out.push(...this.checkMissing(id, now, false));
    for (const id of this.awaited.keys()) {
      if (this.memory.deviceLastSeen(id) === undefined) out.push(...this.checkMissing(id, now, false));
      else this.awaited.delete(id);
    }
    return out;
  }

  /** Rules whose scope matches the device, cached per device (the registry is fixed at start). */
  private scoped(device: DeviceInfo): { set: Set<CompiledRule>; missing: CompiledRule[] } {
    let entry = this.scopeCache.get(device.id);
    if (!entry) {
      const list = this.rules.filter((r) => matchesScope(r.rule.scope, device));
      entry = { set: new Set(list), missing: list.filter((r) => r.missing) };
      this.scopeCache.set(device.id, entry);
    }
    return entry;
  }

  private state(r: CompiledRule, deviceId: string, channel: string): KeyState {
    const k = stateKey(r.rule.id, deviceId, channel);
    let s = this.states.get(k);
    if (!s) {
      s = { ruleId: r.rule.id, deviceId, channel, phase: 'idle', since: null, firedAt: null, lastEval: null, lastTrue: null, lastValue: null, streak: null, alertId: null };
      this.states.set(k, s);
    }
    return s;
  }

  private deleteState(k: string): void {
    this.states.delete(k);
    this.active.delete(k);
  }

  private markDirty(s: KeyState): void {
    const k = stateKey(s.ruleId, s.deviceId, s.channel);
    this.dirty.add(k);
    if (s.phase === 'idle') this.active.delete(k);
    else this.active.add(k);
  }

  private evaluateKey(r: CompiledRule, device: DeviceInfo, channel: string, t: number): Transition | null {
    const s = this.state(r, device.id, channel);
    if (s.lastEval !== null && t < s.lastEval) {
      this.stats.late++;
      return null;
    }
    this.stats.evaluations++;
    const ctx: EvalContext = {
      device,
      channel,
      t,
      memory: this.memory,
      active: s.phase !== 'idle',
      stalenessMs: r.stalenessMs ?? defaultStalenessMs(device),
    };
    let holds = evaluate(r.rule.condition, ctx);
    const c = r.rule.condition;
    if (c.type === 'consecutive' && holds !== undefined) holds = this.countPeriod(c, s, t, holds);
    s.lastEval = t;
    if (holds === undefined) return null;
    const value = primaryValue(r.metrics[0], ctx);
    // Only transitions show every value: computed when one happens, not at each evaluation.
    const valuesOf = () => {
      const values: Record<string, number> = {};
      for (const m of r.metrics) {
        const p = freshValue(ctx, m);
        if (p) values[m] = p.v;
      }
      return values;
    };
    if (holds) {
      s.lastTrue = t;
      s.lastValue = value;
      if (s.phase === 'idle') {
        s.since = t;
        if (r.forMs === 0) return this.fire(r, device, s, t, value, 'condition met', valuesOf());
        s.phase = 'pending';
        this.markDirty(s);
        return { kind: 'pending', rule: r, device, channel, time: t, value, values: valuesOf(), state: s, reason: `condition met; waiting ${r.rule.for}` };
      }
      if (s.phase === 'pending' && t - s.since! >= r.forMs) return this.fire(r, device, s, s.since! + r.forMs, value, `held for ${r.rule.for}`, valuesOf());
      // Still pending or firing: the open alert is updated, not duplicated.
      this.markDirty(s);
      return null;
    }
    if (s.phase === 'idle') {
      if (c.type === 'consecutive') this.markDirty(s);
      return null;
    }
    const kind = s.phase === 'pending' ? 'cancelled' : 'resolved';
    this.reset(s);
    return { kind, rule: r, device, channel, time: t, value, values: valuesOf(), state: s, reason: kind === 'cancelled' ? `cleared before ${r.rule.for}` : 'condition cleared' };
  }

  /** Streak of consecutive periods; several messages with one observed time count once. */
  private countPeriod(c: ConsecutiveCondition, s: KeyState, t: number, inner: boolean): boolean {
    const prev = s.streak;
    const before = prev && prev.t === t ? prev.before : (prev?.count ?? 0);
    const count = inner ? before + 1 : 0;
    s.streak = { t, before, count };
    if (prev?.count !== count) this.markDirty(s);
    return count >= c.periods;
  }

  private fire(r: CompiledRule, device: DeviceInfo, s: KeyState, at: number, value: number | null, reason: string, values: Record<string, number> = {}): Transition {
    s.phase = 'firing';
    s.firedAt = at;
    if (s.since === null) s.since = at;
    this.markDirty(s);
    return { kind: 'firing', rule: r, device, channel: s.channel, time: at, value, values, state: s, reason };
  }

  private reset(s: KeyState): void {
    s.phase = 'idle';
    s.since = null;
    s.firedAt = null;
    this.markDirty(s);
  }

  private checkMissing(deviceId: string, now: number, onIngest: boolean): Transition[] {
    if (this.missingRules.length === 0) return [];
    const device = this.deviceInfo(deviceId);
    const out: Transition[] = [];
    for (const r of this.scoped(device).missing) {
      const m = r.missing;
      if (!m) continue;
      const heard = m.metric ? this.memory.metricLastSeen(deviceId, m.metric) : this.memory.deviceLastSeen(deviceId);
      const last = heard ?? (m.metric ? undefined : this.awaited.get(deviceId));
      if (last === undefined) continue;
      const silentAfter = Math.max(m.afterMs, m.periods && device.periodSeconds ? m.periods * device.periodSeconds * 1000 : 0) + r.forMs;
      const s = onIngest ? this.getState(r.rule.id, deviceId, '') : this.state(r, deviceId, '');
      if (!s) continue;
      const silent = now - last >= silentAfter;
      if (silent && s.phase === 'idle' && !onIngest) {
        s.since = last;
        const reason = heard === undefined ? `no observation since registration (${new Date(last).toISOString()})` : `no ${m.metric ?? 'observation'} since ${new Date(last).toISOString()}`;
        out.push(this.fire(r, device, s, last + silentAfter, null, reason));
      } else if (!silent && s.phase === 'firing') {
        this.reset(s);
        out.push({ kind: 'resolved', rule: r, device, channel: '', time: last, value: null, values: {}, state: s, reason: `heard again at ${new Date(last).toISOString()}` });
      }
    }
    return out;
  }
}
