/**
 * The road-conditions ice-risk level and the default alert rules must tell the same story:
 * a road crew seeing "pre-alert" on the conditions page expects the pre-alert rule to agree.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_ICE_RISK_OPTIONS } from './ice-risk.ts';

interface Cond {
  type: string;
  metric?: string;
  below?: number;
  offset?: number;
  other?: string;
  conditions?: Cond[];
}
const rules = (parse(readFileSync('rules/roads.yaml', 'utf8')) as { rules: Array<{ id: string; condition: Cond }> }).rules;
const flat = (c: Cond): Cond[] => [c, ...(c.conditions ?? []).flatMap(flat)];
const prealert = flat(rules.find((r) => r.id === 'ice-prealert')!.condition);

t.equal(prealert.find((c) => c.type === 'rate')?.below, DEFAULT_ICE_RISK_OPTIONS.fallingThresholdPerHour, 'same "falling" rate');
t.equal(prealert.find((c) => c.type === 'compare' && c.offset !== undefined)?.offset, DEFAULT_ICE_RISK_OPTIONS.preAlertMarginC, 'same margin above the freezing point');
