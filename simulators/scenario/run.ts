/**
 * Runs a scenario against a broker and, with `check`, against the Vigie behind it: the scenario's
 * model window [start, start + span] is published with observation times moved so that it ends
 * now (a January night is checked any day), an hour of it per second unless a speed is given; then the checker waits for the last observations to be stored and for the alert timer,
 * and compares expected and actual alerts and values through the HTTP API.
 */
import path from 'node:path';
import type { Device } from '../../schemas/index.ts';
import type { BrokerConnection } from '../fleet/connection.ts';
import type { Environment } from '../fleet/environment.ts';
import { resolveFaults, type FaultSpec } from '../fleet/faults.ts';
import type { SimMessage } from '../fleet/generator.ts';
import { loadFleet, loadRegistryFile, runFleet, type FleetResult } from '../fleet/run.ts';
import { latest, listAlerts, type ApiTarget } from './api.ts';
import { checkScenario, type CheckReport } from './check.ts';
import type { Scenario } from './schema.ts';

export const DEFAULT_SCENARIO_SPEED = 3600;

export function scenarioEnvironment(s: Scenario, start: number): Environment {
  const end = start + s.span;
  const w = (x: { from: number; to?: number }) => ({ from: start + x.from, to: x.to === undefined ? end : start + x.to });
  const c = s.conditions;
  return {
    weather: c.weather.map((x) => ({ ...x, ...w(x) })),
    salting: c.salting.map((x) => ({ ...x, at: start + x.at })),
    incidents: c.incidents.map((x) => ({ ...x, ...w(x) })),
    buildings: c.buildings.map((x) => ({ ...x, ...w(x) })),
    holidays: c.holidays,
  };
}

export function scenarioDevices(s: Scenario): Device[] {
  const all = loadFleet(path.resolve(s.dir, s.registry));
  return pick(s, all);
}

function pick(s: Scenario, all: Device[]): Device[] {
  const byId = new Map(all.map((d) => [d.id, d]));
  const chosen = s.devices.map((id) => {
    const d = byId.get(id);
    if (!d) throw new Error(`${s.file}: device ${id} is not in ${s.registry}`);
    return d;
  });
  // A Sparkplug node brings its devices along.
  for (const d of [...chosen]) if (d.tags.format === 'sparkplug-b') for (const n of (d.tags.spDevices ?? '').split(',').filter(Boolean)) byId.get(`${d.id}:${n}`) && !chosen.some((c) => c.id === `${d.id}:${n}`) && chosen.push(byId.get(`${d.id}:${n}`)!);
  return chosen;
}

export interface ScenarioRunOptions {
  broker: BrokerConnection;
  /** Per-account passwords (see FleetOptions.credentials). */
  credentials?: Record<string, string>;
  topicPrefix?: string;
  /**
   * Model seconds per wall second. Default 3600 (an hour a second): Vigie evaluates each commit
   * on the latest values it holds, so a whole night arriving in one burst (`Infinity`) would be
   * judged on its last readings only.
   */
  speed?: number;
  seed?: number;
  extraFaults?: FaultSpec[];
  /** Observation time of the scenario's end (default: now, rounded down to the second). */
  endAt?: number;
  progress?: boolean;
  log?: (line: string) => void;
  /** Every published message, with its payload as published and the observation-time offset. */
  onRecord?: (m: SimMessage, topic: string, payload: Buffer, offsetMs: number) => void;
}

export async function runScenario(s: Scenario, o: ScenarioRunOptions): Promise<{ fleet: FleetResult; offsetMs: number; lastObserved: Map<string, number> }> {
  const start = Date.parse(s.start);
  const speed = o.speed ?? (s.speed === 'max' ? Infinity : s.speed) ?? DEFAULT_SCENARIO_SPEED;
  // Ends now: with a finite speed the run takes span/speed, so it starts that much earlier.
  // With a finite speed the run lasts span / speed and ends when its observation times reach now.
  const endAt = Math.floor((o.endAt ?? Date.now() + (Number.isFinite(speed) ? s.span / speed : 0)) / 1000) * 1000;
  const offsetMs = endAt - (start + s.span);
  const lastObserved = new Map<string, number>();
  const registry = loadRegistryFile(path.resolve(s.dir, s.registry));
  const fleet = await runFleet({
    broker: o.broker,
    credentials: o.credentials,
    devices: pick(s, registry.devices),
    gateways: registry.gateways,
    topicPrefix: o.topicPrefix ?? '',
    seed: o.seed ?? s.seed,
    start,
    durationSeconds: s.span / 1000,
    offsetMs,
    speed,
    env: scenarioEnvironment(s, start),
    faults: resolveFaults([...s.faults, ...(o.extraFaults ?? [])], start),
    intervalSeconds: s.periodSeconds,
    progress: o.progress,
    log: o.log ?? (() => {}),
    onMessage: (m, topic, payload) => {
      lastObserved.set(m.device, Math.max(lastObserved.get(m.device) ?? 0, m.at + offsetMs));
      o.onRecord?.(m, topic, payload, offsetMs);
    },
  });
  return { fleet, offsetMs, lastObserved };
}

export interface ScenarioCheckOptions extends ScenarioRunOptions {
  api: ApiTarget;
  /** Time for the alert timer after the data is stored (default 6 s: Vigie's tick is 5 s). */
  settleMs?: number;
  /** Longest wait for the last observations to be stored. */
  ingestTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runAndCheck(s: Scenario, o: ScenarioCheckOptions): Promise<CheckReport> {
  // The API must answer (and accept the token) before anything is published.
  await listAlerts(o.api, s.devices, Date.now() - 60_000, Date.now());
  const { offsetMs, lastObserved } = await runScenario(s, o);
  const startObs = Date.parse(s.start) + offsetMs;
  // Wait until every device's last delivered message is stored (a dropped-out device: its last one).
  const deadline = Date.now() + (o.ingestTimeoutMs ?? 30_000);
  const waiting = new Map([...lastObserved].filter(([id]) => s.devices.includes(id)));
  while (waiting.size > 0 && Date.now() < deadline) {
    for (const [id, t] of waiting) {
      // A device never heard yet is a 404; any other refusal ends the wait.
      const items = (await latest(o.api, id).catch((err: Error) => {
        if (/HTTP 404/.test(err.message)) return { items: [] };
        throw err;
      })).items;
      if (items.some((i) => Date.parse(i.time) >= t - 60_000)) waiting.delete(id);
    }
    if (waiting.size > 0) await sleep(250);
  }
  await sleep(o.settleMs ?? 6000);
  const report = await checkScenario(s, o.api, startObs);
  if (waiting.size > 0) report.notes.push(`not all observations were stored in time: ${[...waiting.keys()].join(', ')}`);
  return report;
}
