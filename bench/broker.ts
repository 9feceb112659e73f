/** Starts a real Mosquitto with Vigie's shipped configuration on a free port (benchmarks). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { freePort } from '../services/embedded/free-port.ts';

export interface BenchBroker {
  url: string;
  stop(): Promise<void>;
}

export async function startShippedMosquitto(): Promise<BenchBroker> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-mosq-'));
  const conf = readFileSync(path.resolve('infra/mosquitto/vigie.conf'), 'utf8')
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
    .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`)
    // The benchmark measures the loss-free queue settings with anonymous publishers; the
    // generated accounts (`vigie mosquitto-config`) are exercised by test/mosquitto-config.test.ts.
    .replace(/^allow_anonymous .*$/m, 'allow_anonymous true')
    .replace(/^(password_file|acl_file|use_username_as_clientid) .*$/gm, '');
  writeFileSync(path.join(dir, 'mosquitto.conf'), conf);
  const child: ChildProcess = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 500 });
      await c.endAsync();
      break;
    } catch (err) {
      if (i > 50) throw new Error(`mosquitto did not start on ${url}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
