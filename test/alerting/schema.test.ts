/** Rule schema: durations, hysteresis sanity, and the errors a rule author sees. */
import t from 'tap';
import { parseDuration, ruleSchema, silenceInputSchema } from '../../schemas/alerting.ts';
import { parseRuleFile } from '../../services/alerting/rule-files.ts';

const base = { id: 'r1', name: 'R', severity: 'warning' } as const;

t.test('durations', async (t) => {
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('30s'), 30_000);
  t.equal(parseDuration('1.5h'), 5_400_000);
  t.equal(parseDuration('2d'), 172_800_000);
  t.throws(() => parseDuration('10 minutes'));
  t.notOk(ruleSchema.safeParse({ ...base, for: '10min', condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1 } }).success);
});

t.test('threshold refinements', async (t) => {
  const bad = (condition: unknown, path: string) => {
    const r = ruleSchema.safeParse({ ...base, condition });
    t.notOk(r.success, JSON.stringify(condition));
    if (!r.success) t.ok(r.error.issues.some((i) => i.path.join('.').includes(path)), `error names ${path}: ${JSON.stringify(r.error.issues.map((i) => i.path.join('.')))}`);
  };
  bad({ type: 'threshold', metric: 'co2', op: 'above', value: 1500, clear: 1600 }, 'clear');
  bad({ type: 'threshold', metric: 'visibility', op: 'below', value: 400, clear: 300 }, 'clear');
  bad({ type: 'threshold', metric: 'supply_temperature', op: 'outside', low: 90, high: 30 }, 'high');
  bad({ type: 'threshold', metric: 'surface_state', op: 'in' }, 'values');
  bad({ type: 'rate', metric: 'surface_temperature', window: '1h' }, 'below');
  bad({ type: 'threshold', metric: 'not_a_metric', op: 'above', value: 1 }, 'metric');
  t.ok(ruleSchema.safeParse({ ...base, condition: { type: 'all', conditions: [{ type: 'any', conditions: [{ type: 'threshold', metric: 'co2', op: 'above', value: 1 }] }] } }).success, 'composites nest');
  t.notOk(ruleSchema.safeParse({ ...base, condition: { type: 'all', conditions: [{ type: 'missing', after: '10m' }] } }).success, 'missing data stands alone');
  t.notOk(ruleSchema.safeParse({ ...base, id: 'Upper Case', condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1 } }).success);
});

t.test('a bad rule file names the file, the path and the reason', async (t) => {
  t.throws(() => parseRuleFile('rules:\n  - id: x\n    name: X\n    severity: loud\n    condition: { type: missing, after: 10m }\n', 'ops.yaml'), { code: 'VIGIE_ERR_RULE_FILE', message: /^ops\.yaml: rules\.0\.severity: / });
  t.throws(() => parseRuleFile('rules: [', 'broken.yaml'), { code: 'VIGIE_ERR_RULE_FILE' });
});

t.test('silences need a range that ends after it starts', async (t) => {
  t.ok(silenceInputSchema.safeParse({ scope: { routes: ['RD910'] }, startsAt: '2026-02-01T08:00:00Z', endsAt: '2026-02-01T17:00:00Z', reason: 'travaux', createdBy: 'cei-nord' }).success);
  t.notOk(silenceInputSchema.safeParse({ scope: {}, startsAt: '2026-02-01T08:00:00Z', endsAt: '2026-02-01T08:00:00Z', reason: 'x', createdBy: 'y' }).success);
});
