/**
 * Publishes the fleet described by a registry file in Vigie's native wire format, QoS 1, as
 * real devices would: one MQTT connection per gateway-like process, each device on its own
 * period. The simulator shares only the schemas with the platform.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { parse as parseYaml } from 'yaml';
import { registryFileSchema, type Device } from '../../schemas/index.ts';
import { messageFor, type ModelState } from './models.ts';
import { createRandom } from './random.ts';

export interface FleetOptions {
  url: string;
  registryPath: string;
  /** Publish every this many seconds instead of each device's own period (demo speed). */
  intervalSeconds?: number;
  durationSeconds?: number;
  topicPrefix: string;
  seed: number;
  /** Progress lines go here (the CLI passes stdout). */
  log?: (line: string) => void;
}

export function loadFleet(file: string): Device[] {
  const text = readFileSync(file, 'utf8');
  return registryFileSchema.parse(file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)).devices;
}

export async function runFleet(options: FleetOptions): Promise<{ published: number }> {
  const devices = loadFleet(options.registryPath);
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const client = await mqtt.connectAsync(options.url, { clientId: `vigie-sim-${process.pid}`, clean: true, reconnectPeriod: 1000 });
  const random = createRandom(options.seed);
  const states = new Map<string, ModelState>(devices.map((d, i) => [d.id, { energy: 120_000 + i * 1000, water: 3_000 + i * 10 }]));
  let published = 0;
  const timers: NodeJS.Timeout[] = [];
  const publishOne = async (device: Device, period: number) => {
    const message = messageFor(device, new Date(), random, states.get(device.id)!, period);
    await client.publishAsync(`${options.topicPrefix}vigie/${device.id}/telemetry`, JSON.stringify(message), { qos: 1 });
    published += 1;
  };
  log(`simulating ${devices.length} devices on ${options.url}`);
  for (const device of devices) {
    const period = options.intervalSeconds ?? device.periodSeconds ?? 360;
    await publishOne(device, period);
    timers.push(setInterval(() => void publishOne(device, period).catch((err: Error) => log(`publish failed: ${err.message}`)), period * 1000));
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    if (options.durationSeconds !== undefined) setTimeout(stop, options.durationSeconds * 1000);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  for (const t of timers) clearInterval(t);
  await client.endAsync();
  log(`published ${published} messages`);
  return { published };
}
