/**
 * VictoriaMetrics for the InfluxDB mirror tests: the shared instance started by
 * infra/ci/start-victoria-metrics.sh (TEST_VICTORIA_URL, default 127.0.0.1:8428), or a private
 * one on a free port (the outage test stops and starts its own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../services/embedded/free-port.ts';
import { waitFor } from './wait.ts';

export const SHARED_VICTORIA_URL = process.env.TEST_VICTORIA_URL || 'http://127.0.0.1:8428';

export async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`)).ok;
  } catch {
    return false;
  }
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/** Raw samples of every series whose name starts with `prefix` (GET /api/v1/export). */
export async function exportSeries(url: string, prefix: string): Promise<ExportedSeries[]> {
  const u = new URL('/api/v1/export', url);
  u.searchParams.set('match[]', `{__name__=~"${prefix}.*"}`);
  const res = await fetch(u);
  if (!res.ok) throw new Error(`export: HTTP ${res.status}`);
  const text = await res.text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ExportedSeries);
}

export interface PrivateVictoria {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export async function privateVictoria(): Promise<PrivateVictoria> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-vm-'));
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = null;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    await exited;
  };
  return {
    url,
    port,
    async start() {
      child = spawn('victoria-metrics', [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dir}`, '-retentionPeriod=1', '-search.latencyOffset=0s'], { stdio: 'ignore' });
      await waitFor(() => healthy(url), 20_000, `victoria-metrics on ${port}`);
    },
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
