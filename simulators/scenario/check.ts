/**
 * Expected versus actual: each expected alert must have fired (rule, device, channel) inside its
 * window, by its `firedAt` (for an offline alert that is last seen + delay, for a `for` rule the
 * end of the duration); each forbidden alert must not have fired during the run (a pending one
 * that never fired does not count); each value bound must
 * hold over the stored observations of its window. The report lists every line, pass or fail.
 */
import { listAlerts, listObservations, type AlertItem, type ApiTarget } from './api.ts';
import type { Scenario } from './schema.ts';

export interface CheckLine {
  ok: boolean;
  kind: 'alert' | 'absent' | 'value';
  expected: string;
  actual: string;
}

export interface CheckReport {
  scenario: string;
  ok: boolean;
  /** Observation time of the scenario start. */
  start: string;
  lines: CheckLine[];
  /** Other alerts seen on the scenario's devices (for information). */
  others: string[];
  notes: string[];
}

const rel = (t: number, start: number) => {
  const m = Math.round((t - start) / 60_000);
  return `${m < 0 ? '-' : '+'}${Math.floor(Math.abs(m) / 60)}h${String(Math.abs(m) % 60).padStart(2, '0')}`;
};
const key = (a: { rule?: string; ruleId?: string; device?: string; deviceId?: string; channel?: string }) => `${a.rule ?? a.ruleId} on ${a.device ?? a.deviceId}${a.channel ? `/${a.channel}` : ''}`;

export async function checkScenario(s: Scenario, api: ApiTarget, start: number): Promise<CheckReport> {
  const end = start + s.span;
  const alerts = await listAlerts(api, s.devices, start, end + 3_600_000);
  const used = new Set<AlertItem>();
  const lines: CheckLine[] = [];
  const fmt = (a: AlertItem) => `${a.ruleId} on ${a.deviceId}${a.channel ? `/${a.channel}` : ''} ${a.firedAt ? `fired ${rel(Date.parse(a.firedAt), start)}` : `pending from ${rel(Date.parse(a.startedAt), start)}`}${a.resolvedAt ? `, resolved ${rel(Date.parse(a.resolvedAt), start)}` : `, ${a.state}`}`;
  const fired = (a: AlertItem) => (a.firedAt ? Date.parse(a.firedAt) : undefined);
  for (const e of s.expect.alerts) {
    const from = start + e.from;
    const to = e.to === undefined ? end : start + e.to;
    const same = alerts.filter((a) => a.ruleId === e.rule && a.deviceId === e.device && (e.channel === undefined || a.channel === e.channel));
    const hit = same.find((a) => fired(a) !== undefined && fired(a)! >= from && fired(a)! <= to);
    if (hit) used.add(hit);
    lines.push({ ok: !!hit, kind: 'alert', expected: `${key(e)} firing ${rel(from, start)}..${rel(to, start)}`, actual: hit ? fmt(hit) : same.length ? `only ${same.map(fmt).join('; ')}` : 'no such alert' });
  }
  for (const e of s.expect.absent) {
    const found = alerts.filter((a) => a.ruleId === e.rule && (e.device === undefined || a.deviceId === e.device) && (e.channel === undefined || a.channel === e.channel) && fired(a) !== undefined && fired(a)! >= start && fired(a)! <= end);
    found.forEach((a) => used.add(a));
    lines.push({ ok: found.length === 0, kind: 'absent', expected: `no ${e.rule} on ${e.device ?? 'any scenario device'}${e.channel ? `/${e.channel}` : ''}`, actual: found.length ? found.map(fmt).join('; ') : 'none' });
  }
  for (const v of s.expect.values) {
    const from = start + v.from;
    const to = v.to === undefined ? end : start + v.to;
    const obs = await listObservations(api, v.device, v.metric, from, to + 1, v.channel);
    const values = obs.map((o) => o.value);
    const min = values.length ? Math.min(...values) : NaN;
    const max = values.length ? Math.max(...values) : NaN;
    const bound = (x: number, b?: { atLeast?: number; atMost?: number }) => !b || ((b.atLeast === undefined || x >= b.atLeast) && (b.atMost === undefined || x <= b.atMost));
    const bounded = v.min !== undefined || v.max !== undefined;
    const ok = (values.length > 0 ? bound(min, v.min) && bound(max, v.max) : !bounded && v.maxCount !== undefined) && (v.count === undefined || values.length >= v.count) && (v.maxCount === undefined || values.length <= v.maxCount);
    const b = (name: string, x?: { atLeast?: number; atMost?: number }) => (x ? `${name} ${x.atLeast !== undefined ? `>= ${x.atLeast}` : ''}${x.atLeast !== undefined && x.atMost !== undefined ? ' and ' : ''}${x.atMost !== undefined ? `<= ${x.atMost}` : ''}` : '');
    lines.push({
      ok,
      kind: 'value',
      expected: `${v.metric} of ${v.device}${v.channel ? `/${v.channel}` : ''} ${rel(from, start)}..${rel(to, start)}: ${[b('min', v.min), b('max', v.max), v.count !== undefined ? `at least ${v.count} values` : '', v.maxCount !== undefined ? `at most ${v.maxCount} values` : ''].filter(Boolean).join(', ') || 'some values'}`,
      actual: values.length ? `${values.length} values, min ${min}, max ${max}` : 'no values',
    });
  }
  const others = alerts.filter((a) => !used.has(a)).map(fmt);
  const ok = lines.every((l) => l.ok);
  const notes: string[] = [];
  if (!ok && s.span > 15 * 60_000)
    notes.push(`observations older than VIGIE_ALERT_MAX_LAG_SECONDS (default 900 s) when they arrive raise no live alert: a fast scenario spanning ${Math.round(s.span / 60_000)} min needs that setting at least as long on the Vigie under test (or a run at real time)`);
  return { scenario: s.name, ok, start: new Date(start).toISOString(), lines, others, notes };
}

export function formatReport(r: CheckReport): string {
  const out = [`scenario ${r.scenario} (start ${r.start}): ${r.ok ? 'PASS' : 'FAIL'}`];
  for (const l of r.lines) out.push(`  ${l.ok ? 'ok  ' : 'FAIL'} ${l.kind.padEnd(6)} expected ${l.expected}\n         actual   ${l.actual}`);
  if (r.others.length) out.push(`  other alerts on the scenario's devices: ${r.others.join('; ')}`);
  for (const n of r.notes) out.push(`  note: ${n}`);
  return out.join('\n');
}
