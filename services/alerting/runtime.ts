/**
 * What the alerting module shares with its routes (and with tests, through `alertingFor`):
 * the engine, the device lookup and a way to reload rules after an API change.
 */
import type pg from 'pg';
import type { Rule } from '../../schemas/alerting.ts';
import type { AlertEngine } from './engine.ts';
import type { DeviceInfo } from './scope.ts';

export interface AlertingRuntime {
  engine: AlertEngine;
  pool: pg.Pool;
  deviceInfo: (id: string) => DeviceInfo;
  reloadRules(): Promise<void>;
  /** Why a rule's notification targets are refused (webhook allow-list, MQTT namespace), or null. */
  checkTargets(rule: Rule): Promise<string | null>;
}

const runtimes = new WeakMap<pg.Pool, AlertingRuntime>();

export function registerRuntime(pool: pg.Pool, rt: AlertingRuntime): void {
  runtimes.set(pool, rt);
}

/** The alerting runtime of a running platform, found by its pool (tests, benchmarks). */
export function alertingFor(pool: pg.Pool): AlertingRuntime {
  const rt = runtimes.get(pool);
  if (!rt) throw new Error('alerting is not running on this platform (VIGIE_ALERTING=false?)');
  return rt;
}
