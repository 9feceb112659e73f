/**
 * Runs `vigie start` as a real child process, so tests can kill it (SIGKILL between receipt
 * and commit, SIGTERM for graceful shutdown) the way an orchestrator would. Like in-process
 * test platforms, it accepts TEST_ADMIN_TOKEN (send `authHeaders()`) unless `env` sets its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../services/embedded/free-port.ts';
import { TEST_ADMIN_TOKEN } from './admin-token.ts';
import { waitFor } from './wait.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ChildPlatform {
  url: string;
  child: ChildProcess;
  output(): string;
  metric(name: string): Promise<number>;
  exited: Promise<number | null>;
  /** SIGKILL to the whole process group (needs `group: true`). */
  killGroup(): void;
}

/**
 * `group: true` runs Vigie in its own process group, so `killGroup` kills it with its embedded
 * PostgreSQL at once, as an orchestrator or the OOM killer of a container would.
 */
export async function startChildPlatform(env: Record<string, string>, timeoutMs = 60_000, options: { group?: boolean } = {}): Promise<ChildPlatform> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/vigie.js'), 'start'], {
    cwd: ROOT,
    // Plain PostgreSQL unless the test says otherwise: never the mode of the shell it runs in.
    env: { ...process.env, VIGIE_LOG_LEVEL: 'info', VIGIE_TIMESCALE: 'off', VIGIE_ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...env, VIGIE_HTTP_PORT: String(port), VIGIE_HTTP_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let gone = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      gone = true;
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const ready = waitFor(
    async () => {
      // Stop polling once the child is gone (the race below has already failed).
      if (gone) return true;
      const r = await fetch(`${url}/ready`).catch(() => undefined);
      return r?.status === 200;
    },
    timeoutMs,
    'vigie to be ready',
  );
  const early = exited.then((code) => {
    throw new Error(`vigie exited early (code ${code}):\n${output.slice(-2000)}`);
  });
  await Promise.race([ready, early]);
  early.catch(() => {});
  return {
    url,
    child,
    exited,
    output: () => output,
    killGroup: () => process.kill(-child.pid!, 'SIGKILL'),
    async metric(name) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : NaN;
    },
  };
}
