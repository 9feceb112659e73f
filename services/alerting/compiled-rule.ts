/**
 * A validated rule, pre-digested for evaluation: durations in milliseconds, the metrics it
 * reads, the history its rate conditions need.
 */
import { conditionMetrics, parseDuration, type Condition, type Rule, type RuleSource } from '../../schemas/alerting.ts';

export interface CompiledRule {
  rule: Rule;
  source: RuleSource;
  /** File the rule came from (file rules), for the API's "where does it come from". */
  origin: string | null;
  forMs: number;
  metrics: string[];
  /** Missing-data rule: evaluated on the timer, not per observation. */
  missing: { afterMs: number; periods?: number; metric?: string } | null;
  /** Longest rate or mean window, per metric (history the memory must keep). */
  rateWindows: Map<string, number>;
  stalenessMs: number | null;
  escalateAfterMs: number | null;
}

function collectRates(c: Condition, out: Map<string, number>): number | null {
  let staleness: number | null = null;
  switch (c.type) {
    case 'rate':
    case 'mean': {
      const w = parseDuration(c.window);
      out.set(c.metric, Math.max(out.get(c.metric) ?? 0, w));
      break;
    }
    case 'consecutive':
      return collectRates(c.condition, out);
    case 'all':
    case 'any':
      if (c.staleness) staleness = parseDuration(c.staleness);
      for (const x of c.conditions) {
        const s = collectRates(x, out);
        if (s !== null) staleness = staleness === null ? s : Math.min(staleness, s);
      }
      break;
    default:
      break;
  }
  return staleness;
}

export function compileRule(rule: Rule, source: RuleSource, origin: string | null): CompiledRule {
  const rateWindows = new Map<string, number>();
  const stalenessMs = collectRates(rule.condition, rateWindows);
  const c = rule.condition;
  return {
    rule,
    source,
    origin,
    forMs: rule.for ? parseDuration(rule.for) : 0,
    metrics: conditionMetrics(c),
    missing: c.type === 'missing' ? { afterMs: parseDuration(c.after), periods: c.periods, metric: c.metric } : null,
    rateWindows,
    stalenessMs,
    escalateAfterMs: rule.escalate ? parseDuration(rule.escalate.after) : null,
  };
}
