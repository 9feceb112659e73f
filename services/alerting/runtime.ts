/**
 * What the alerting module shares with its routes (and with tests, through `alertingFor`):
 * the engine (running only in the process that holds the `alerting` role), the live event
 * hub, the device lookup, and the ways an API change reaches the evaluator wherever it runs.
 */
import type pg from 'pg';
import type { Rule } from '../../schemas/alerting.ts';
import type { FeedHub } from '../cluster/feed-hub.ts';
import type { AlertEngine, AlertEventType } from './engine.ts';
import type { DeviceInfo } from './scope.ts';
import type { AlertView } from './store/alerts.ts';
import type { StreamEvent } from './store/outbox.ts';

export interface AlertingRuntime {
  /** The engine of this process (evaluating only while this process holds the `alerting` role). */
  readonly engine: AlertEngine;
  /** True while this process runs the evaluator. */
  readonly evaluating: boolean;
  pool: pg.Pool;
  hub: FeedHub<{ seq: number; event: StreamEvent }>;
  deviceInfo: (id: string) => DeviceInfo;
  now(): number;
  /** Rules changed in the table: the evaluator reloads them (here at once, elsewhere on NOTIFY). */
  reloadRules(): Promise<void>;
  /** Silences changed: same path as rules. */
  refreshSilences(): Promise<void>;
  /** Records a human action's event (acknowledgement) in the stream every process serves. */
  publishEvent(type: AlertEventType, alert: AlertView): Promise<void>;
  /** Resolves once this process's evaluator has handled every commit made before the call. */
  caughtUp(timeoutMs?: number): Promise<void>;
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
