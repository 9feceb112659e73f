/**
 * `npm run bench:alerts`: (1) delay from an observation's commit to its alert event (the
 * evaluator reads the durable commit feed, woken by NOTIFY), on the
 * real platform (Mosquitto + PostgreSQL of this machine, default rule pack, background load);
 * (2) evaluation throughput of the core with thousands of rules and devices. Prints JSON.
 *
 *   BENCH_DEVICES (10000)  BENCH_RULES (3000)  BENCH_HOURS (1)  BENCH_TRIGGERS (200)
 */
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { ruleSchema, type RuleInput } from '../schemas/alerting.ts';
import type { DeviceInput, MetricName, Observation } from '../schemas/index.ts';
import { compileRule } from '../services/alerting/compiled-rule.ts';
import { EvaluationCore } from '../services/alerting/core.ts';
import type { AlertEvent, StepReport } from '../services/alerting/engine.ts';
import { loadRuleFiles } from '../services/alerting/rule-files.ts';
import type { DeviceInfo } from '../services/alerting/scope.ts';
import { startScenario } from '../test/helpers/alerting.ts';
import { waitFor } from '../test/helpers/wait.ts';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100 : null;
};

async function latency() {
  const triggers = env('BENCH_TRIGGERS', 200);
  const background = 1000;
  const devices: DeviceInput[] = [];
  for (let i = 0; i < triggers; i++) devices.push({ id: `boiler-${i}`, kind: 'boiler', domain: 'buildings', periodSeconds: 300 });
  for (let i = 0; i < background; i++) devices.push({ id: `room-${i}`, kind: 'building-sensor', domain: 'buildings', periodSeconds: 300 });
  const now = Date.now();
  const sc = await startScenario({ rules: 'default', devices, clockStart: now, env: { VIGIE_BATCH_MS: '50', VIGIE_LOG_LEVEL: 'silent' } });
  sc.clock.set(now);
  try {
    // Commit time per step (database clock when the batch entered the commit feed, in its
    // transaction), and the alert events each step produced: the delay covers the NOTIFY
    // wake-up, the feed read, the evaluation and the step's own transaction.
    const eventTimes: number[] = [];
    const delays: number[] = [];
    const stepMs: number[] = [];
    sc.rt.engine.on('alert', (e: AlertEvent) => {
      if (e.type === 'firing') eventTimes.push(Date.now());
    });
    sc.rt.engine.on('step', (s: StepReport) => {
      stepMs.push(s.doneAt - s.committedAt);
      for (const t of eventTimes.splice(0)) delays.push(t - s.committedAt);
    });
    const pub = await sc.tp.publisher();
    const publishedAt = new Map<string, number>();
    const endToEnd: number[] = [];
    sc.rt.engine.on('alert', (e: AlertEvent) => {
      const p = publishedAt.get(e.alert.deviceId);
      if (e.type === 'firing' && p !== undefined) endToEnd.push(performance.now() - p);
    });
    const topic = (id: string) => `${sc.tp.prefix}vigie/${id}/telemetry`;
    // Background: 1000 rooms, 3 readings each, no alert (CO2 600 ppm, 19 °C).
    const bg = (async () => {
      for (let r = 0; r < 3; r++) {
        await Promise.all(
          Array.from({ length: background }, (_, i) =>
            pub.publishAsync(topic(`room-${i}`), JSON.stringify({ ts: now - (3 - r) * 60_000, metrics: { co2: 600, air_temperature: 18.5, occupancy_state: 1, battery: 90 } }), { qos: 1 }),
          ),
        );
      }
    })();
    for (let i = 0; i < triggers; i++) {
      publishedAt.set(`boiler-${i}`, performance.now());
      await pub.publishAsync(topic(`boiler-${i}`), JSON.stringify({ ts: now, metrics: { fault: 1, supply_temperature: 60, boiler_state: 1 } }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 10));
    }
    await bg;
    await waitFor(() => delays.length >= triggers, 60_000, 'every trigger to fire');
    return {
      triggers,
      backgroundMessages: background * 3,
      commitToAlertEventMs: { p50: pct(delays, 50), p95: pct(delays, 95), p99: pct(delays, 99), max: pct(delays, 100) },
      publishToAlertEventMs: { p50: pct(endToEnd, 50), p95: pct(endToEnd, 95), max: pct(endToEnd, 100) },
      engineStepMs: { p50: pct(stepMs, 50), p95: pct(stepMs, 95), steps: stepMs.length },
    };
  } finally {
    await sc.stop();
  }
}

function throughput() {
  const nDevices = env('BENCH_DEVICES', 10_000);
  const nRules = env('BENCH_RULES', 3000);
  const hours = env('BENCH_HOURS', 1);
  const MIN = 60_000;
  const devices = new Map<string, DeviceInfo>();
  const kinds = ['road-weather-station', 'traffic-counter', 'building-sensor'] as const;
  for (let i = 0; i < nDevices; i++) {
    const kind = kinds[i % 10 < 1 ? 0 : i % 10 < 4 ? 1 : 2]!;
    devices.set(`d${i}`, { id: `d${i}`, kind, domain: kind === 'building-sensor' ? 'buildings' : 'roads', periodSeconds: kind === 'building-sensor' ? 300 : 360, building: kind === 'building-sensor' ? { building: `clg-${i % 120}` } : undefined, tags: {} });
  }
  const pack = loadRuleFiles(path.resolve('rules')).map((f) => f.rule);
  const extra: RuleInput[] = [];
  for (let i = 0; extra.length < nRules - pack.length; i++) {
    // Per-building CO2 and comfort rules, per-station composites: the shape of a real deployment's extra rules.
    const b = `clg-${i % 120}`;
    if (i % 3 === 0) extra.push({ id: `co2-${i}`, name: `CO2 ${b}`, severity: 'info', scope: { buildings: [b] }, condition: { type: 'threshold', metric: 'co2', op: 'above', value: 1000 + (i % 7) * 100, clear: 900 } });
    else if (i % 3 === 1) extra.push({ id: `temp-${i}`, name: `Temp ${b}`, severity: 'info', scope: { buildings: [b] }, for: '15m', condition: { type: 'threshold', metric: 'air_temperature', op: 'outside', low: 14, high: 26 } });
    else extra.push({ id: `rws-${i}`, name: `Road ${i}`, severity: 'warning', scope: { devices: [`d${(i * 10) % nDevices}`] }, condition: { type: 'all', conditions: [{ type: 'threshold', metric: 'surface_temperature', op: 'below', value: 1 }, { type: 'threshold', metric: 'relative_humidity', op: 'above', value: 85 }] } });
  }
  const rules = [...pack, ...extra].map((r) => compileRule(ruleSchema.parse(r), 'file', null));
  const core = new EvaluationCore((id) => devices.get(id) ?? { id }, 15 * MIN);
  core.setRules(rules);
  const T0 = Date.parse('2026-01-12T00:00:00Z');
  let observations = 0;
  let transitions = 0;
  let batch: Observation[] = [];
  const add = (deviceId: string, t: number, metric: MetricName, value: number, channel = '') => {
    batch.push({ deviceId, metric, channel, time: new Date(t), receivedAt: new Date(t), value, quality: 0 });
  };
  let evalMs = 0;
  const flush = (now: number) => {
    const s = performance.now();
    transitions += core.ingest(batch, now).length;
    evalMs += performance.now() - s;
    observations += batch.length;
    batch = [];
  };
  let tickMs = 0;
  let ticks = 0;
  for (let m = 0; m < hours * 60; m++) {
    const t = T0 + m * MIN;
    for (const [id, d] of devices) {
      const period = (d.periodSeconds ?? 300) / 60;
      const n = Number(id.slice(1));
      if ((m + n) % period !== 0) continue;
      const wave = Math.sin((m + n) / 30);
      if (d.kind === 'road-weather-station') {
        add(id, t, 'surface_temperature', 1.5 + wave * 2);
        add(id, t, 'air_temperature', 2 + wave);
        add(id, t, 'relative_humidity', 80 + wave * 10);
        add(id, t, 'surface_state', wave > 0 ? 5 : 3);
        add(id, t, 'wind_gust', 10 + wave * 5);
      } else if (d.kind === 'traffic-counter') {
        for (const lane of ['lane1', 'lane2']) {
          add(id, t, 'vehicle_count', 60, lane);
          add(id, t, 'mean_speed', 70 + wave * 50, lane);
          add(id, t, 'occupancy', 10 - wave * 8, lane);
        }
      } else {
        add(id, t, 'co2', 900 + wave * 700);
        add(id, t, 'air_temperature', 20 + wave * 2);
        add(id, t, 'occupancy_state', 1);
      }
      if (batch.length >= 2000) flush(t);
    }
    flush(t);
    if (m % 1 === 0) {
      const s = performance.now();
      transitions += core.tick(t + 59_000).length;
      tickMs += performance.now() - s;
      ticks++;
    }
  }
  return {
    devices: nDevices,
    rules: rules.length,
    observations,
    ruleEvaluations: core.stats.evaluations,
    transitions,
    observationsPerSecond: Math.round(observations / (evalMs / 1000)),
    ruleEvaluationsPerSecond: Math.round(core.stats.evaluations / (evalMs / 1000)),
    timerTickMs: Math.round((tickMs / ticks) * 100) / 100,
    heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1e6),
  };
}

const result = { node: process.version, cpus: (await import('node:os')).cpus().length, throughput: throughput(), latency: await latency() };
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
