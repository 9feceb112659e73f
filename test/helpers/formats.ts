/** Shared bits of the wire-format end-to-end tests: golden payloads, a registry file, API types. */
import type { ObservationItem } from '../../services/store/observations.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DECODERS_DIR } from './golden.ts';
import type { TestPlatform } from './platform.ts';
import { waitFor } from './wait.ts';

export function golden(format: string, name: string, file = 'payload.json'): Buffer {
  return readFileSync(path.join(DECODERS_DIR, format, 'testdata', name, file));
}

/** A registry file for the test platform (VIGIE_REGISTRY). */
export function registryFile(devices: unknown[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-reg-'));
  const file = path.join(dir, 'devices.json');
  writeFileSync(file, JSON.stringify({ devices }));
  return file;
}

export type Obs = ObservationItem;
export interface Dead {
  id: number;
  code: string;
  reason: string;
  field: string | null;
  deviceId: string | null;
  decoder: string | null;
  topic: string;
  payload: string;
  payloadEncoding: string;
  replayedAt: string | null;
  replayAttempts: number;
}
export interface DeviceItem {
  id: string;
  name: string | null;
  tags: Record<string, string>;
  online: boolean | null;
  statusReason: string | null;
  statusChangedAt: string | null;
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function byMetric(items: Obs[]): Record<string, Obs> {
  return Object.fromEntries(items.map((o) => [`${o.channel ? `${o.channel}/` : ''}${o.metric}`, o]));
}

/** Waits until a device has at least `n` latest values; returns them by `channel/metric`. */
export function latestOf(tp: TestPlatform, id: string, n: number, timeoutMs = 20_000): Promise<Record<string, Obs>> {
  return waitFor(async () => {
    const r = await tp.get<{ items: Obs[] }>(`/api/v1/devices/${encodeURIComponent(id)}/latest`);
    return r.status === 200 && r.body.items.length >= n ? byMetric(r.body.items) : undefined;
  }, timeoutMs, `${n} latest values of ${id}`);
}
