/** Starts a real Mosquitto with Vigie's shipped configuration (infra/mosquitto/vigie.conf) on a free port (tests, benchmarks). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { freePort } from '../../services/embedded/free-port.ts';

export interface ShippedBroker {
  url: string;
  stop(): Promise<void>;
}

export async function startShippedMosquitto(): Promise<ShippedBroker> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-mosq-'));
  const conf = readFileSync(new URL('../../infra/mosquitto/vigie.conf', import.meta.url), 'utf8')
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
    .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`)
    // The loss-free queue settings with anonymous clients; the
    // generated accounts (`vigie mosquitto-config`) are exercised by test/mosquitto-config.test.ts.
    .replace(/^allow_anonymous .*$/m, 'allow_anonymous true')
    .replace(/^(password_file|acl_file|use_username_as_clientid) .*$/gm, '')
    // As root, Mosquitto would switch to the `mosquitto` user, which cannot write the private
    // persistence folder.
    .concat(os.userInfo().uid === 0 ? '\nuser root\n' : '');
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
