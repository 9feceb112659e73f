/**
 * Scenario helpers for alerting: a platform with its own rules folder and device registry,
 * a hand-driven clock (no sleeping for minutes: observed timestamps plus `tick(now)`), and a
 * `send` that returns once the engine has processed the observation.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { RuleInput } from '../../schemas/alerting.ts';
import type { DeviceInput } from '../../schemas/index.ts';
import { alertingFor, type AlertingRuntime } from '../../services/alerting/runtime.ts';
import type { AlertEvent } from '../../services/alerting/engine.ts';
import type { RawConfig } from '../../services/config.ts';
import type { TestDatabase } from './database.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';
import { waitFor } from './wait.ts';

export interface ManualClock {
  now(): number;
  set(t: number): void;
}

export function manualClock(start: number): ManualClock {
  let t = start;
  return { now: () => t, set: (v) => (t = v) };
}

export interface AlertingScenario {
  tp: TestPlatform;
  rt: AlertingRuntime;
  clock: ManualClock;
  events: AlertEvent[];
  dir: string;
  /** Publishes one native message and waits until the engine has evaluated it. */
  send(deviceId: string, at: number, metrics: Record<string, number>, channels?: Record<string, Record<string, number>>): Promise<void>;
  /** Sets the clock and runs the timer step (missing data, `for` expiry, escalation). */
  tick(at: number): Promise<void>;
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export interface ScenarioOptions {
  /** Rules for the rules folder; `'default'` uses the shipped pack (rules/). */
  rules: RuleInput[] | 'default';
  devices: DeviceInput[];
  env?: Partial<Record<keyof RawConfig, string>>;
  db?: TestDatabase;
  prefix?: string;
  dir?: string;
  clockStart: number;
}

export async function startScenario(o: ScenarioOptions): Promise<AlertingScenario> {
  const dir = o.dir ?? mkdtempSync(path.join(os.tmpdir(), 'vigie-alerting-'));
  const rulesDir = o.rules === 'default' ? path.resolve('rules') : path.join(dir, 'rules');
  if (o.rules !== 'default') {
    rmSync(rulesDir, { recursive: true, force: true });
    mkdirSync(rulesDir, { recursive: true });
    writeFileSync(path.join(rulesDir, 'test.yaml'), stringify({ rules: o.rules }));
  }
  const registry = path.join(dir, 'devices.yaml');
  writeFileSync(registry, stringify({ devices: o.devices }));
  const tp = await startTestPlatform({
    db: o.db,
    prefix: o.prefix,
    env: {
      VIGIE_RULES_DIR: rulesDir,
      VIGIE_REGISTRY: registry,
      // The test drives the timer itself with a hand-set clock.
      VIGIE_ALERT_TICK_MS: '3600000',
      VIGIE_BATCH_MS: '5',
      ...o.env,
    },
  });
  const rt = alertingFor(tp.platform.pool);
  const clock = manualClock(o.clockStart);
  rt.engine.setClock(clock);
  const events: AlertEvent[] = [];
  rt.engine.on('alert', (e: AlertEvent) => events.push(e));
  const pub = await tp.publisher();
  return {
    tp,
    rt,
    clock,
    events,
    dir,
    async send(deviceId, at, metrics, channels) {
      if (clock.now() < at) clock.set(at);
      await pub.publishAsync(`${tp.prefix}vigie/${deviceId}/telemetry`, JSON.stringify({ ts: at, metrics, ...(channels ? { channels } : {}) }), { qos: 1 });
      const [metric] = Object.keys(metrics).length ? Object.keys(metrics) : Object.keys(Object.values(channels ?? {})[0] ?? {});
      const channel = Object.keys(metrics).length ? '' : Object.keys(channels ?? {})[0]!;
      await waitFor(() => rt.engine.core.memory.latestOf(deviceId, metric!, channel)?.t === at, 15_000, `${deviceId} ${metric} at ${new Date(at).toISOString()} in the engine`);
      await rt.engine.idle();
    },
    async tick(at) {
      clock.set(at);
      await rt.engine.tick(at);
    },
    async stop(opts) {
      await tp.stop();
      if (!opts?.keepDir && !o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface AlertJson {
  id: string;
  ruleId: string;
  deviceId: string;
  channel: string;
  state: string;
  severity: string;
  startedAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  silenced: boolean;
  lastValue: number | null;
  ack: { by: string; comment: string } | null;
  escalatedAt: string | null;
}

export async function alertsOf(tp: TestPlatform, query: string): Promise<AlertJson[]> {
  const r = await tp.get<{ items: AlertJson[] }>(`/api/v1/alerts?${query}`);
  if (r.status !== 200) throw new Error(`GET /api/v1/alerts?${query}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.items;
}
