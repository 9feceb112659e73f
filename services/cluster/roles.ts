/**
 * `vigie start --role`: what a process runs. Any process with intake takes its share of the
 * MQTT messages (shared subscription); singletons run where their lease is held.
 *  - all:    intake, API, every singleton (one process, or identical replicas);
 *  - ingest: intake and the Sparkplug host (which needs the intake path), health and metrics;
 *  - api:    the HTTP API (and HTTP intakes such as NGSI notifications);
 *  - worker: alert evaluation, notification delivery, storage upkeep, InfluxDB mirror.
 */
import type { Singleton } from './keys.ts';

export type ProcessRole = 'all' | 'ingest' | 'api' | 'worker';

export const ROLE_SINGLETONS: Record<ProcessRole, readonly Singleton[]> = {
  all: ['alerting', 'notify', 'sparkplug', 'maintenance', 'influx'],
  ingest: ['sparkplug'],
  api: [],
  worker: ['alerting', 'notify', 'maintenance', 'influx'],
};

export function roleHasIntake(role: ProcessRole): boolean {
  return role === 'all' || role === 'ingest';
}

export function roleServesApi(role: ProcessRole): boolean {
  return role === 'all' || role === 'api';
}
