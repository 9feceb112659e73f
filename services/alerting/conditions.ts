/**
 * Evaluates a condition for one device and channel at one observed time, from the engine's
 * memory. Returns true, false, or undefined when the inputs are missing or stale (then the
 * engine leaves the state as it is: no reading is not a reading; a stale input neither raises
 * nor clears an alert — the stale-data guard of README "Alerting"). `active` is true while the alert is pending or firing: thresholds then use their
 * clear value (hysteresis).
 */
import type { CompareCondition, Condition, MeanCondition, RateCondition, ThresholdCondition, ValueRef } from '../../schemas/alerting.ts';
import { parseDuration } from '../../schemas/alerting.ts';

/** Durations of validated rules, parsed once (evaluation is the hot path). */
const durations = new Map<string, number>();
function durationMs(text: string): number {
  let v = durations.get(text);
  if (v === undefined) durations.set(text, (v = parseDuration(text)));
  return v;
}
import type { DeviceInfo } from './scope.ts';
import type { Point, SeriesMemory } from './series-memory.ts';

export interface EvalContext {
  device: DeviceInfo;
  channel: string;
  /** Observed time the evaluation stands at. */
  t: number;
  memory: SeriesMemory;
  active: boolean;
  /** A metric's latest value counts only if it is at most this old at `t`. */
  stalenessMs: number;
}

/** Default staleness: 2 reporting periods when the device declares one (a missed period is noise, two are an outage), else 15 min. */
export function defaultStalenessMs(device: DeviceInfo): number {
  return device.periodSeconds ? 2 * device.periodSeconds * 1000 : 15 * 60_000;
}

export function resolveValue(ref: ValueRef, device: DeviceInfo): number {
  if (typeof ref === 'number') return ref;
  const tagged = Number(device.tags?.[ref.tag]);
  return (Number.isFinite(tagged) && device.tags?.[ref.tag] !== undefined && device.tags[ref.tag] !== '' ? tagged : ref.default) * ref.factor;
}

/** The metric's latest value on the channel, else device-level (channel ''), if fresh. */
export function freshValue(ctx: EvalContext, metric: string): Point | undefined {
  const p = ctx.memory.latestOf(ctx.device.id, metric, ctx.channel) ?? (ctx.channel ? ctx.memory.latestOf(ctx.device.id, metric, '') : undefined);
  if (!p || Math.abs(ctx.t - p.t) > ctx.stalenessMs) return undefined;
  return p;
}

function threshold(c: ThresholdCondition, ctx: EvalContext): boolean | undefined {
  const p = freshValue(ctx, c.metric);
  if (!p) return undefined;
  const v = p.v;
  switch (c.op) {
    case 'above': {
      const value = resolveValue(c.value!, ctx.device);
      if (ctx.active && c.clear !== undefined) return v >= resolveValue(c.clear, ctx.device);
      return c.inclusive ? v >= value : v > value;
    }
    case 'below': {
      const value = resolveValue(c.value!, ctx.device);
      if (ctx.active && c.clear !== undefined) return v <= resolveValue(c.clear, ctx.device);
      return c.inclusive ? v <= value : v < value;
    }
    case 'outside': {
      const low = ctx.active ? (c.clearLow ?? c.low!) : c.low!;
      const high = ctx.active ? (c.clearHigh ?? c.high!) : c.high!;
      return v < low || v > high;
    }
    case 'in':
      return c.values!.includes(v);
  }
}

function compare(c: CompareCondition, ctx: EvalContext): boolean | undefined {
  const a = freshValue(ctx, c.metric);
  if (!a) return undefined;
  const b = freshValue(ctx, c.other)?.v ?? c.otherDefault;
  if (b === undefined) return undefined;
  const ref = b + (ctx.active && c.clearOffset !== undefined ? c.clearOffset : c.offset);
  switch (c.op) {
    case '<':
      return a.v < ref;
    case '<=':
      return a.v <= ref;
    case '>':
      return a.v > ref;
    case '>=':
      return a.v >= ref;
  }
}

/** Change per hour between the value at the window start and the latest value. */
export function ratePerHour(c: RateCondition, ctx: EvalContext): number | undefined {
  const windowMs = durationMs(c.window);
  const now = freshValue(ctx, c.metric);
  if (!now) return undefined;
  const channel = ctx.memory.latestOf(ctx.device.id, c.metric, ctx.channel) ? ctx.channel : '';
  // The value at the window start, else the oldest value inside it.
  const start = ctx.memory.at(ctx.device.id, c.metric, channel, now.t - windowMs) ?? ctx.memory.range(ctx.device.id, c.metric, channel, now.t - windowMs, now.t)[0];
  // Less than half a window of data says little about a trend.
  if (!start || now.t - start.t < windowMs / 2) return undefined;
  return ((now.v - start.v) * 3_600_000) / (now.t - start.t);
}

function rate(c: RateCondition, ctx: EvalContext): boolean | undefined {
  const r = ratePerHour(c, ctx);
  if (r === undefined) return undefined;
  if (ctx.active && c.clear !== undefined) return c.below !== undefined ? r <= c.clear : r >= c.clear;
  return (c.below === undefined || r < c.below) && (c.above === undefined || r > c.above);
}

/** Mean of the readings in the window; unknown with less than half a window of data. */
export function windowMean(c: MeanCondition, ctx: EvalContext): number | undefined {
  const windowMs = durationMs(c.window);
  const now = freshValue(ctx, c.metric);
  if (!now) return undefined;
  const channel = ctx.memory.latestOf(ctx.device.id, c.metric, ctx.channel) ? ctx.channel : '';
  const points = ctx.memory.range(ctx.device.id, c.metric, channel, now.t - windowMs, now.t);
  if (points.length === 0 || now.t - (points[0]!.t0 ?? points[0]!.t) < windowMs / 2) return undefined;
  // A bucket (a series faster than the memory keeps reading by reading) counts each reading.
  let sum = 0;
  let n = 0;
  for (const p of points) {
    sum += p.sum ?? p.v;
    n += p.n ?? 1;
  }
  return sum / n;
}

function mean(c: MeanCondition, ctx: EvalContext): boolean | undefined {
  const m = windowMean(c, ctx);
  if (m === undefined) return undefined;
  const limit = ctx.active && c.clear !== undefined ? c.clear : c.value;
  if (c.op === 'above') return ctx.active && c.clear !== undefined ? m >= limit : m > limit;
  return ctx.active && c.clear !== undefined ? m <= limit : m < limit;
}

export function evaluate(c: Condition, ctx: EvalContext): boolean | undefined {
  switch (c.type) {
    case 'threshold':
      return threshold(c, ctx);
    case 'compare':
      return compare(c, ctx);
    case 'rate':
      return rate(c, ctx);
    case 'mean':
      return mean(c, ctx);
    case 'all':
    case 'any': {
      const inner = c.staleness ? { ...ctx, stalenessMs: durationMs(c.staleness) } : ctx;
      let unknown = 0;
      for (const x of c.conditions) {
        const r = evaluate(x, inner);
        if (r === undefined) unknown++;
        else if (c.type === 'all' && !r) return false;
        else if (c.type === 'any' && r) return true;
      }
      // all: unknown as soon as one part is (the others held). any: a station that does not
      // report water film still says "dry" through its surface state, so unknown parts count
      // as false unless no part at all is known.
      if (c.type === 'all') return unknown > 0 ? undefined : true;
      return unknown === c.conditions.length ? undefined : false;
    }
    case 'consecutive':
      return evaluate(c.condition, ctx);
    case 'missing':
      // Only time reveals missing data: the engine's timer handles it.
      return undefined;
  }
}

/** The value shown on the alert: the first metric the condition reads. */
export function primaryValue(metric: string | undefined, ctx: EvalContext): number | null {
  if (!metric) return null;
  return freshValue(ctx, metric)?.v ?? null;
}
