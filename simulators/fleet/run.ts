/**
 * Publishes the fleet described by a registry file, QoS 1, as real devices would: one MQTT
 * connection per gateway-like process, each device on its own period. A device's `format`
 * tag picks its wire format (native by default; ttn-v3, chirpstack-v4, senml, ngsi, or
 * sparkplug-b for an edge node with its own session, whose `spDevices` tag lists its devices).
 * With credentials (`{username: password}`, as `vigie credentials provision` writes them),
 * each device or gateway connects with its own account (simulators/fleet/accounts.ts);
 * with one login, every connection uses it; with neither, clients connect anonymously.
 * The simulator shares only the schemas with the platform.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { parse as parseYaml } from 'yaml';
import { registryFileSchema, type Device, type Gateway } from '../../schemas/index.ts';
import { accountFor, type Login } from './accounts.ts';
import { classroom, messageFor, type ModelState, type NativeMessage } from './models.ts';
import { createRandom } from './random.ts';
import { chirpstackUplink, ttnUplink, type WireMessage } from './wire/lorawan.ts';
import { ngsiEntities } from './wire/ngsi.ts';
import { senmlPack } from './wire/senml.ts';
import { SparkplugEdgeNode } from './wire/sparkplug.ts';

/** The message a device sends, in its wire format (`format` tag). */
export function wireMessage(device: Device, m: NativeMessage, random: () => number, count: number, period: number): WireMessage {
  switch (device.tags.format) {
    case 'ttn-v3':
      return ttnUplink(device, m, random, count);
    case 'chirpstack-v4':
      return chirpstackUplink(device, m, random, count);
    case 'senml':
      return senmlPack(device, m);
    case 'ngsi':
      return ngsiEntities(device, m, period);
    default:
      return { topic: `vigie/${device.id}/telemetry`, payload: JSON.stringify(m) };
  }
}

export interface FleetOptions {
  url: string;
  registryPath: string;
  /** Publish every this many seconds instead of each device's own period (demo speed). */
  intervalSeconds?: number;
  durationSeconds?: number;
  topicPrefix: string;
  seed: number;
  /** Per-account passwords: each device or gateway logs in as itself. */
  credentials?: Record<string, string>;
  /** One login for every connection (an integration account), when `credentials` is not given. */
  login?: Login;
  /** Progress lines go here (the CLI passes stdout). */
  log?: (line: string) => void;
}

export function loadRegistryFile(file: string): { devices: Device[]; gateways: Gateway[] } {
  const text = readFileSync(file, 'utf8');
  return registryFileSchema.parse(file.endsWith('.json') ? JSON.parse(text) : parseYaml(text));
}

export function loadFleet(file: string): Device[] {
  return loadRegistryFile(file).devices;
}

export async function runFleet(options: FleetOptions): Promise<{ published: number }> {
  const { devices, gateways } = loadRegistryFile(options.registryPath);
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  /** The login of the account publishing on `topic`; null: no credential for it (skipped). */
  const loginFor = (topic: string): Login | undefined | null => {
    if (!options.credentials) return options.login;
    const account = accountFor(topic, gateways);
    const password = account ? options.credentials[account] : undefined;
    return account && password ? { username: account, password } : null;
  };
  const clients = new Map<string, Promise<MqttClient>>();
  const clientFor = (login: Login | undefined) => {
    const key = login?.username ?? '';
    let c = clients.get(key);
    if (!c) {
      c = mqtt.connectAsync(options.url, { clientId: `sim-${key || 'fleet'}-${process.pid}`, clean: true, reconnectPeriod: 1000, ...(login ?? {}) });
      c.catch(() => clients.delete(key));
      clients.set(key, c);
    }
    return c;
  };
  const warned = new Set<string>();
  const random = createRandom(options.seed);
  const states = new Map<string, ModelState>(devices.map((d, i) => [d.id, { energy: 120_000 + i * 1000, water: 3_000 + i * 10 }]));
  let published = 0;
  const timers: NodeJS.Timeout[] = [];
  const counts = new Map<string, number>();
  const publishOne = async (device: Device, period: number) => {
    const message = messageFor(device, new Date(), random, states.get(device.id)!, period);
    const count = (counts.get(device.id) ?? 0) + 1;
    counts.set(device.id, count);
    const wire = wireMessage(device, message, random, count, period);
    const login = loginFor(wire.topic);
    if (login === null) {
      if (!warned.has(device.id)) log(`no credential publishes ${wire.topic} (device ${device.id}): skipped`);
      warned.add(device.id);
      return;
    }
    const client = await clientFor(login);
    await client.publishAsync(`${options.topicPrefix}${wire.topic}`, wire.payload, { qos: 1 });
    published += 1;
  };
  // Sparkplug B edge nodes keep their own MQTT session (their NDEATH is the session's will).
  const nodes: SparkplugEdgeNode[] = [];
  const publishNode = async (node: SparkplugEdgeNode, device: Device, period: number) => {
    const t = new Date();
    const children = new Map(node.devices.map((d) => [d, classroom(t, random)]));
    await node.publish(messageFor(device, t, random, states.get(device.id)!, period), children);
  };
  const simulated = devices.filter((d) => d.tags.format !== 'sparkplug-b-device');
  log(`simulating ${simulated.length} devices on ${options.url}`);
  for (const device of simulated) {
    const period = options.intervalSeconds ?? device.periodSeconds ?? 360;
    if (device.tags.format === 'sparkplug-b') {
      const [group, node] = device.id.split(':');
      const login = loginFor(`spBv1.0/${group ?? 'vigie'}/NBIRTH/${node ?? device.id}`);
      if (login === null) {
        log(`no credential for Sparkplug edge node ${device.id}: skipped`);
        continue;
      }
      const spNode = new SparkplugEdgeNode(options.url, options.topicPrefix, group ?? 'vigie', node ?? device.id, (device.tags.spDevices ?? '').split(',').filter(Boolean), login);
      await spNode.start();
      nodes.push(spNode);
      await publishNode(spNode, device, period);
      timers.push(setInterval(() => void publishNode(spNode, device, period).catch((err: Error) => log(`publish failed: ${err.message}`)), period * 1000));
      continue;
    }
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
  for (const n of nodes) {
    await n.stop();
    published += n.published;
  }
  for (const c of clients.values()) await (await c.catch(() => undefined))?.endAsync();
  log(`published ${published} messages`);
  return { published };
}
