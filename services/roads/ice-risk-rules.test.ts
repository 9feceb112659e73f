/**
 * The road-conditions ice-risk level and the default alert rules must tell the same story:
 * a road crew seeing "pre-alert" on the conditions page expects the pre-alert rule to agree.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_ICE_RISK_OPTIONS, MOISTURE_STATES } from './ice-risk.ts';

interface Cond {
  type: string;
  metric?: string;
  below?: number;
  offset?: number;
  other?: string;
  values?: number[];
  conditions?: Cond[];
}
const rules = (parse(readFileSync('rules/roads.yaml', 'utf8')) as { rules: Array<{ id: string; condition: Cond }> }).rules;
const flat = (c: Cond): Cond[] => [c, ...(c.conditions ?? []).flatMap(flat)];
const prealert = flat(rules.find((r) => r.id === 'ice-prealert')!.condition);

t.equal(prealert.find((c) => c.type === 'rate')?.below, DEFAULT_ICE_RISK_OPTIONS.fallingThresholdPerHour, 'same "falling" rate');
t.equal(prealert.find((c) => c.type === 'compare' && c.offset !== undefined)?.offset, DEFAULT_ICE_RISK_OPTIONS.preAlertMarginC, 'same margin above the freezing point');

// Both moisture lists (ice alarm and pre-alert) are the ice-risk's NTCIP surface states.
for (const id of ['ice-alarm', 'ice-prealert']) {
  const states = flat(rules.find((r) => r.id === id)!.condition).find((c) => c.metric === 'surface_state');
  t.same(states?.values, [...MOISTURE_STATES], `${id}: same moisture surface states`);
}
