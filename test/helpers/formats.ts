/** Shared bits of the wire-format end-to-end tests: golden payloads, a registry file, API types. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DECODERS_DIR } from './golden.ts';

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

export interface Obs {
  time: string;
  deviceId: string;
  metric: string;
  channel: string;
  value: number;
  unit: string;
  quality: string[];
}
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
