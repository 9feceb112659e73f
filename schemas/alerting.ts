/**
 * Alerting rules as data: the shape of a rule file (`rules/*.yaml`) and of a rule posted to
 * the API, plus the alert and silence shapes the API returns. Leaf module: zod only, no I/O.
 * The default pack's thresholds and their sources are in the comments of `rules/*.yaml`.
 */
import { z } from 'zod';
import { DEVICE_KINDS, domainSchema } from './device.ts';
import { metricNameSchema } from './metrics.ts';
import { channelSchema, deviceIdSchema } from './observation.ts';

/** `30s`, `10m`, `2h`, `1d`, `500ms`: human durations, as in Prometheus rule files. */
const DURATION_RE = /^(\d{1,9}(?:\.\d{1,6})?)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest duration a rule may state (windows, `for`, staleness, escalation): one leap year. */
export const MAX_DURATION_MS = 366 * 86_400_000;

export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}" (expected e.g. 30s, 10m, 2h)`);
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) throw new Error(`duration "${text}" is longer than 366d`);
  return ms;
}

export const durationSchema = z
  .string()
  .max(32)
  .regex(DURATION_RE, 'expected a duration such as 30s, 10m, 2h, 1d')
  .refine((t) => {
    try {
      parseDuration(t);
      return true;
    } catch {
      return false;
    }
  }, 'a duration is at most 366d');

/**
 * A date a client sends in a body: coerced like JSON dates, but within years 0001-9999
 * (JavaScript reads years PostgreSQL's timestamptz cannot store; none is a telemetry time).
 */
export const bodyDateSchema = z.coerce.date().refine((d) => {
  const y = d.getUTCFullYear();
  return y >= 1 && y <= 9999;
}, 'expected a date-time between years 0001 and 9999');

export const severitySchema = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof severitySchema>;

/**
 * A number, or a per-device value read from a registry tag (free-flow speed differs per
 * station), times a factor: `{ tag: freeFlowSpeed, default: 80, factor: 0.25 }`.
 */
export const valueRefSchema = z.union([
  z.number().finite(),
  z.object({ tag: z.string().min(1).max(64), default: z.number().finite(), factor: z.number().finite().default(1) }).strict(),
]);
export type ValueRef = z.infer<typeof valueRefSchema>;

const metricLeaf = { metric: metricNameSchema };

/**
 * Threshold with hysteresis: it triggers past `value` and clears only past `clear`, so a
 * reading hovering at the threshold does not flap (hysteresis, as in any alarm deadband).
 * For `outside`, `low`/`high` trigger and `clearLow`/`clearHigh` clear. `in` matches codes
 * (NTCIP surface states are not ordered, so no threshold makes sense for them).
 */
export const thresholdConditionSchema = z
  .object({
    type: z.literal('threshold'),
    ...metricLeaf,
    op: z.enum(['above', 'below', 'outside', 'in']),
    value: valueRefSchema.optional(),
    clear: valueRefSchema.optional(),
    low: z.number().finite().optional(),
    high: z.number().finite().optional(),
    clearLow: z.number().finite().optional(),
    clearHigh: z.number().finite().optional(),
    values: z.array(z.number().finite()).min(1).optional(),
    /** `above`/`below` compare with >= / <= instead of > / <. */
    inclusive: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.op === 'above' || c.op === 'below') && c.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `op ${c.op} needs value` });
    if (c.op === 'outside' && (c.low === undefined || c.high === undefined)) ctx.addIssue({ code: 'custom', path: ['low'], message: 'op outside needs low and high' });
    if (c.op === 'outside' && c.low !== undefined && c.high !== undefined && c.low >= c.high) ctx.addIssue({ code: 'custom', path: ['high'], message: 'high must exceed low' });
    if (c.op === 'in' && !c.values) ctx.addIssue({ code: 'custom', path: ['values'], message: 'op in needs values' });
    if (typeof c.value === 'number' && typeof c.clear === 'number') {
      if (c.op === 'above' && c.clear > c.value) ctx.addIssue({ code: 'custom', path: ['clear'], message: 'for op above, clear must be at or below value' });
      if (c.op === 'below' && c.clear < c.value) ctx.addIssue({ code: 'custom', path: ['clear'], message: 'for op below, clear must be at or above value' });
    }
  });

/**
 * One metric against another on the same device: `metric <op> other + offset`. Ice needs
 * surface temperature <= freezing point, with 0 °C (pure water) when no freezing point is
 * reported (NTCIP 1204 essSurfaceFreezePoint exists only for a wet surface), hence `otherDefault`. `clearOffset` is the hysteresis: the comparison
 * clears only once `metric` is past `other + clearOffset`.
 */
export const compareConditionSchema = z
  .object({
    type: z.literal('compare'),
    ...metricLeaf,
    op: z.enum(['<', '<=', '>', '>=']),
    other: metricNameSchema,
    offset: z.number().finite().default(0),
    clearOffset: z.number().finite().optional(),
    otherDefault: z.number().finite().optional(),
  })
  .strict();

/**
 * Rate of change over a window, per hour: (latest - value at the window start) / hours.
 * `below: -1` means "falling faster than 1 unit/h". At least two readings spanning half the
 * window are required, else the rate is unknown.
 */
export const rateConditionSchema = z
  .object({
    type: z.literal('rate'),
    ...metricLeaf,
    window: durationSchema,
    below: z.number().finite().optional(),
    above: z.number().finite().optional(),
    /** Hysteresis: once active, holds while the rate stays below (or above) `clear`. */
    clear: z.number().finite().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.below === undefined && c.above === undefined) ctx.addIssue({ code: 'custom', path: ['below'], message: 'rate needs below or above' });
    if (c.clear !== undefined && c.below !== undefined && c.above !== undefined) ctx.addIssue({ code: 'custom', path: ['clear'], message: 'clear applies to one bound: use below or above, not both' });
    if (c.clear !== undefined && c.below !== undefined && c.clear < c.below) ctx.addIssue({ code: 'custom', path: ['clear'], message: 'with below, clear must be at or above it' });
    if (c.clear !== undefined && c.above !== undefined && c.clear > c.above) ctx.addIssue({ code: 'custom', path: ['clear'], message: 'with above, clear must be at or below it' });
  });

/**
 * Mean over a window (time-weighted is not needed at fixed reporting periods): the heating
 * rule is about the *average* room temperature (Code de l'énergie R241-26), not one reading.
 * Hysteresis: once active, it clears only past `clear`.
 */
export const meanConditionSchema = z
  .object({
    type: z.literal('mean'),
    ...metricLeaf,
    window: durationSchema,
    op: z.enum(['above', 'below']),
    value: z.number().finite(),
    clear: z.number().finite().optional(),
  })
  .strict();

/**
 * Missing data: no observation from the device (no `metric`) or of one metric for `after`.
 * With `periods`, a device that declares its reporting period is silent after
 * max(after, periods x period): a 6-minute station and a 1-hour meter get their own delay.
 */
export const missingConditionSchema = z
  .object({
    type: z.literal('missing'),
    metric: metricNameSchema.optional(),
    after: durationSchema,
    periods: z.number().positive().optional(),
  })
  .strict();

export type ThresholdCondition = z.infer<typeof thresholdConditionSchema>;
export type CompareCondition = z.infer<typeof compareConditionSchema>;
export type RateCondition = z.infer<typeof rateConditionSchema>;
export type MissingCondition = z.infer<typeof missingConditionSchema>;
export type MeanCondition = z.infer<typeof meanConditionSchema>;

/** Leaves that a composite or a consecutive count may hold (missing data stands alone). */
export type LeafCondition = ThresholdCondition | CompareCondition | RateCondition | MeanCondition;

export interface CompositeCondition {
  type: 'all' | 'any';
  conditions: Array<LeafCondition | CompositeCondition>;
  staleness?: string;
}

// Discriminated on `type`, so an author's mistake is reported at its place
// (condition.conditions.1.metric), not as "no union member matched".
export const compositeConditionSchema: z.ZodType<CompositeCondition> = z
  .object({
    type: z.enum(['all', 'any']),
    conditions: z.array(z.lazy(() => innerConditionSchema)).min(1).max(32),
    /** Each metric's latest value counts only if it is this recent (default: 2 periods, or 15m). */
    staleness: durationSchema.optional(),
  })
  .strict() as unknown as z.ZodType<CompositeCondition>;

const innerConditionSchema: z.ZodType<LeafCondition | CompositeCondition> = z.discriminatedUnion('type', [
  thresholdConditionSchema,
  compareConditionSchema,
  rateConditionSchema,
  meanConditionSchema,
  compositeConditionSchema as unknown as z.ZodObject<{ type: z.ZodEnum<{ all: 'all'; any: 'any' }> }>,
]) as unknown as z.ZodType<LeafCondition | CompositeCondition>;

export const leafConditionSchema = innerConditionSchema;

/** True for `periods` consecutive reporting periods (congestion: 2 periods, so one slow period is not a jam). */
export const consecutiveConditionSchema = z
  .object({
    type: z.literal('consecutive'),
    periods: z.number().int().min(2).max(1000),
    condition: innerConditionSchema,
  })
  .strict();
export type ConsecutiveCondition = z.infer<typeof consecutiveConditionSchema>;

export const conditionSchema = z.discriminatedUnion('type', [
  thresholdConditionSchema,
  compareConditionSchema,
  rateConditionSchema,
  meanConditionSchema,
  missingConditionSchema,
  compositeConditionSchema as unknown as z.ZodObject<{ type: z.ZodEnum<{ all: 'all'; any: 'any' }> }>,
  consecutiveConditionSchema,
]) as unknown as z.ZodType<
  LeafCondition | CompositeCondition | MissingCondition | ConsecutiveCondition
>;
export type Condition = LeafCondition | CompositeCondition | MissingCondition | ConsecutiveCondition;

export const scopeSchema = z
  .object({
    domain: domainSchema.optional(),
    kinds: z.array(z.enum(DEVICE_KINDS)).optional(),
    devices: z.array(deviceIdSchema).optional(),
    sites: z.array(z.string().min(1)).optional(),
    routes: z.array(z.string().min(1)).optional(),
    buildings: z.array(z.string().min(1)).optional(),
    /** Every listed tag must match: `{ usage: teaching }`. */
    tags: z.record(z.string(), z.string()).optional(),
    channels: z.array(channelSchema).optional(),
  })
  .strict();
export type Scope = z.infer<typeof scopeSchema>;

export const notifyTargetSchema = z.discriminatedUnion('type', [
  /** JSON POST, signed with VIGIE_ALERT_WEBHOOK_SECRET; no url = VIGIE_ALERT_WEBHOOK_URL. */
  z.object({ type: z.literal('webhook'), url: z.string().url().optional() }).strict(),
  /** Publish on the platform's MQTT connection; topic defaults to vigie/alerts/<rule>/<device>. */
  z.object({ type: z.literal('mqtt'), topic: z.string().min(1).max(256).regex(/^[^#+]+$/).optional() }).strict(),
  z.object({ type: z.literal('log') }).strict(),
]);
export type NotifyTarget = z.infer<typeof notifyTargetSchema>;

export const ruleIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, 'rule id: lower-case letters, digits, _ . - (max 100)');

/**
 * How big a condition may be. Real rules nest two or three levels and read a handful of
 * values; the bounds keep a rule's evaluation cost (it runs for every matching observation)
 * and its validation (recursive) small whatever a client posts.
 */
export const MAX_CONDITION_DEPTH = 8;
export const MAX_CONDITION_LEAVES = 64;

/** Nesting depth (a leaf is 1) and leaf count of a condition; stops counting past the bounds. */
export function conditionSize(c: unknown, depth = 1): { depth: number; leaves: number } {
  if (depth > MAX_CONDITION_DEPTH) return { depth, leaves: 0 };
  const node = c as { type?: string; conditions?: unknown[]; condition?: unknown };
  if ((node.type === 'all' || node.type === 'any') && Array.isArray(node.conditions)) {
    let max = depth;
    let leaves = 0;
    for (const x of node.conditions) {
      const s = conditionSize(x, depth + 1);
      max = Math.max(max, s.depth);
      leaves += s.leaves;
      if (max > MAX_CONDITION_DEPTH || leaves > MAX_CONDITION_LEAVES) break;
    }
    return { depth: max, leaves };
  }
  if (node.type === 'consecutive') return conditionSize(node.condition, depth + 1);
  return { depth, leaves: 1 };
}


export const ruleSchema = z
  .object({
    id: ruleIdSchema,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    severity: severitySchema,
    enabled: z.boolean().default(true),
    scope: scopeSchema.default({}),
    condition: conditionSchema,
    /** The condition must hold this long (observed time) before the alert fires. */
    for: durationSchema.optional(),
    notify: z.array(notifyTargetSchema).max(16).default([{ type: 'log' }]),
    /** Critical alerts still unacknowledged `after` firing are notified again (to `notify`, else the rule's targets). */
    escalate: z.object({ after: durationSchema, notify: z.array(notifyTargetSchema).max(16).optional() }).strict().optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const { depth, leaves } = conditionSize(rule.condition);
    if (depth > MAX_CONDITION_DEPTH) ctx.addIssue({ code: 'custom', path: ['condition'], message: `conditions nest at most ${MAX_CONDITION_DEPTH} levels` });
    else if (leaves > MAX_CONDITION_LEAVES) ctx.addIssue({ code: 'custom', path: ['condition'], message: `a rule reads at most ${MAX_CONDITION_LEAVES} conditions` });
  });
export type Rule = z.infer<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;

export const ruleFileSchema = z.object({ rules: z.array(ruleSchema) }).strict();

export const ruleSourceSchema = z.enum(['file', 'api']);
export type RuleSource = z.infer<typeof ruleSourceSchema>;

export const alertStateSchema = z.enum(['pending', 'firing', 'resolved']);
export type AlertState = z.infer<typeof alertStateSchema>;

/** Silence: alerts in scope between startsAt and endsAt are recorded, not notified. */
export const silenceInputSchema = z
  .object({
    scope: scopeSchema.extend({ rules: z.array(ruleIdSchema).optional() }).strict(),
    startsAt: bodyDateSchema,
    endsAt: bodyDateSchema,
    reason: z.string().min(1).max(1000),
    createdBy: z.string().min(1).max(200),
  })
  .strict()
  .refine((s) => s.endsAt > s.startsAt, { message: 'endsAt must be after startsAt', path: ['endsAt'] });
export type SilenceInput = z.infer<typeof silenceInputSchema>;

export const ackInputSchema = z.object({ user: z.string().min(1).max(200), comment: z.string().max(2000).default('') }).strict();

/** Every metric a condition reads. */
export function conditionMetrics(c: Condition): string[] {
  switch (c.type) {
    case 'threshold':
    case 'rate':
    case 'mean':
      return [c.metric];
    case 'compare':
      return [c.metric, c.other];
    case 'missing':
      return c.metric ? [c.metric] : [];
    case 'consecutive':
      return conditionMetrics(c.condition);
    case 'all':
    case 'any':
      return [...new Set(c.conditions.flatMap((x) => conditionMetrics(x)))];
  }
}
