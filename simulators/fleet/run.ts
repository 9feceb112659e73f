/**
 * `vigie simulate`: the fleet of a registry file on a broker, in the devices' own wire formats,
 * in real time, accelerated or as a backfill. Model time drives the device models (a winter
 * night); observation time is model time plus `offset` (a scenario written for a January
 * night runs as the last hours before now). Observation times never run ahead of the wall
 * clock: an accelerated run catches up with now and then goes on in real time. The simulator
 * shares only the schemas with the platform.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import sparkplug from 'sparkplug-payload';
import { registryFileSchema, type Device, type Gateway } from '../../schemas/index.ts';
import { shiftPayload } from '../recordings/shift.ts';
import { accountFor, type Login } from './accounts.ts';
import type { BrokerConnection } from './connection.ts';
import type { Environment } from './environment.ts';
import type { Fault } from './faults.ts';
import { FleetGenerator, type SimMessage } from './generator.ts';
import { createProgress, rate } from './progress.ts';
import { Publisher } from './publisher.ts';

export { wireMessage } from './generator.ts';

const spb = sparkplug.get('spBv1.0')!;

export interface FleetOptions {
  /** Broker URL (shorthand for `broker: { url }`). */
  url?: string;
  broker?: BrokerConnection;
  registryPath?: string;
  devices?: Device[];
  /** Gateways of the registry (broker accounts of network servers, edge nodes, NGSI partners) with `devices`. */
  gateways?: Gateway[];
  /**
   * Per-account passwords (`{username: password}`, as `vigie credentials provision` writes
   * them): each device or gateway logs in as itself (accounts.ts); a message no account may
   * publish is skipped and said once. Without them, every session uses the broker connection's
   * login (`--username`/`--password`, MQTT_USERNAME/MQTT_PASSWORD), if any.
   */
  credentials?: Record<string, string>;
  /** One login for every session, when `credentials` is not given. */
  login?: Login;
  /** Publish every this many seconds instead of each device's own period. */
  intervalSeconds?: number;
  /** Simulated span in seconds (default: until interrupted). */
  durationSeconds?: number;
  topicPrefix: string;
  seed: number;
  /** First model instant (ms); default now. */
  start?: number;
  /** Observation time = model time + offset (ms). */
  offsetMs?: number;
  /** Model seconds per wall second; Infinity: as fast as the broker takes it. */
  speed?: number;
  env?: Environment;
  faults?: Fault[];
  maxInflight?: number;
  /** Called with every message as it is published (recordings, tests). */
  onMessage?: (m: SimMessage, topic: string, payload: Buffer) => void;
  /** Progress line on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  /** Summary lines go here (default stdout). */
  log?: (line: string) => void;
  stop?: Promise<void>;
}

export interface FleetResult {
  published: number;
  errors: number;
  generated: number;
  /** Model times of the run. */
  start: number;
  end: number;
  offsetMs: number;
  wallMs: number;
  /** Time spent setting the models up before the first message. */
  setupMs: number;
  /** Longest time a message waited past its due time (ms): how far behind real time the run fell. */
  maxLagMs: number;
  generator: FleetGenerator;
}

export function loadRegistryFile(file: string): { devices: Device[]; gateways: Gateway[] } {
  const text = readFileSync(file, 'utf8');
  return registryFileSchema.parse(file.endsWith('.json') ? JSON.parse(text) : parseYaml(text));
}

export function loadFleet(file: string): Device[] {
  return loadRegistryFile(file).devices;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const isRebirth = (payload: Buffer) => {
  try {
    return spb.decodePayload(payload).metrics?.some((m) => m.name === 'Node Control/Rebirth' && m.value === true) ?? false;
  } catch {
    return false;
  }
};

export async function runFleet(o: FleetOptions): Promise<FleetResult> {
  const { devices, gateways } = o.devices ? { devices: o.devices, gateways: o.gateways ?? [] } : loadRegistryFile(o.registryPath ?? 'infra/demo/devices.yaml');
  const log = o.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const broker = { ...(o.broker ?? { url: o.url ?? 'mqtt://127.0.0.1:1883' }), ...(o.login && !o.credentials ? o.login : {}) };
  /** The account publishing `topic`: undefined = the broker connection's own login; null = none may (skipped). */
  const loginFor = (topic: string): Login | undefined | null => {
    if (!o.credentials) return undefined;
    const account = accountFor(topic, gateways);
    const password = account ? o.credentials[account] : undefined;
    return account && password ? { username: account, password } : null;
  };
  const warned = new Set<string>();
  const skippedNodes = new Set<string>();
  const speed = o.speed ?? 1;
  const setup0 = Date.now();
  const start = Math.floor((o.start ?? setup0) / 1000) * 1000;
  const offset = o.offsetMs ?? 0;
  const end = o.durationSeconds !== undefined ? start + o.durationSeconds * 1000 : Infinity;
  const gen = new FleetGenerator(devices, { seed: o.seed, start, env: o.env, faults: o.faults, periodSeconds: o.intervalSeconds });
  const pub = new Publisher(broker, o.topicPrefix, o.maxInflight);
  await pub.start(o.credentials !== undefined);
  // The clock starts once the models are set up (10,000 devices take a few seconds): a real-time
  // run starting now sends what fell due meanwhile at once, and is judged from here.
  const setupMs = Date.now() - setup0;
  const wall0 = o.start === undefined ? Date.now() - setupMs : Date.now();
  const progress = createProgress(o.progress ?? process.stderr.isTTY === true);
  let stopped = false;
  const onSignal = () => {
    stopped = true;
  };
  if (!o.stop) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  } else void o.stop.then(onSignal);
  let maxLag = 0;
  /** Wall time at which model time `m` is due (nothing is due before the set-up ended). */
  /** Model time reached at wall time `w` (an infinite speed has reached everything). */
  const reached = (w: number) => (speed === Infinity ? Infinity : start + (w - wall0) * speed);
  const dueWall = (m: number) => Math.max(wall0 + (m - start) / speed, m + offset, setup0 + setupMs);
  const send = async (m: SimMessage) => {
    if (m.node && skippedNodes.has(m.node)) return;
    const login = m.node ? undefined : loginFor(m.topic);
    if (login === null) {
      if (!warned.has(m.device)) log(`no credential publishes ${m.topic} (device ${m.device}): skipped`);
      warned.add(m.device);
      return;
    }
    const payload = offset ? shiftPayload(m.topic, m.payload, offset) : m.payload;
    o.onMessage?.(m, m.topic, payload);
    await pub.publish(m.topic, payload, { node: m.node, login });
  };
  for (const [id, enc] of [...gen.nodes()]) {
    const nodeLogin = loginFor(enc.topic('NBIRTH'));
    if (nodeLogin === null) {
      log(`no credential for Sparkplug edge node ${id}: skipped`);
      skippedNodes.add(id);
      continue;
    }
    const death = enc.death(start);
    await pub.openNode(id, death.topic, offset ? shiftPayload(death.topic, death.payload as Buffer, offset) : (death.payload as Buffer), enc.topic('NCMD'), () => {
      const now = Math.min(Date.now() - offset, reached(Date.now()));
      for (const m of gen.rebirth(id, now)) void send(m);
    }, isRebirth, nodeLogin);
  }
  log(`simulating ${gen.slots.length} devices on ${broker.url} (seed ${o.seed}, ${speed === Infinity ? 'as fast as possible' : `x${speed}`})`);
  const status = () => {
    const now = Date.now();
    const model = Math.min(reached(now), now - offset, end);
    return `sent ${pub.stats.sent}  ${rate(pub.stats.sent, now - wall0)} msg/s  clock ${new Date(model + offset).toISOString().slice(0, 19)}Z  errors ${pub.stats.errors}  behind ${(maxLag / 1000).toFixed(1)} s`;
  };
  for (;;) {
    if (stopped) break;
    const now = Date.now();
    const target = Math.min(reached(now), now - offset, end);
    for (const m of gen.advance(target)) {
      maxLag = Math.max(maxLag, now - dueWall(m.at));
      await send(m);
    }
    progress.update(status());
    const next = gen.nextAt();
    if (next === undefined || next > end) break;
    const wait = dueWall(next) - Date.now();
    if (wait > 0) await sleep(Math.min(wait, 500));
  }
  // Late deliveries still held are delivered at the end of a bounded run.
  if (!stopped && Number.isFinite(end)) for (const m of gen.drain()) await send(m);
  const deaths = [...gen.nodes()].filter(([id]) => !skippedNodes.has(id)).map(([id, enc]) => {
    const at = Math.min(end, Date.now() - offset);
    const d = enc.death(at);
    const payload = offset ? shiftPayload(d.topic, d.payload as Buffer, offset) : (d.payload as Buffer);
    o.onMessage?.({ topic: d.topic, payload: d.payload as Buffer, at, device: id, node: id }, d.topic, payload);
    return { node: id, topic: d.topic, payload };
  });
  await pub.close(deaths);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  const wallMs = Date.now() - setup0 - setupMs;
  progress.done(`published ${pub.stats.sent} messages in ${(wallMs / 1000).toFixed(1)} s (${rate(pub.stats.sent, wallMs)} msg/s), ${pub.stats.errors} errors${pub.stats.lastError ? ` (last: ${pub.stats.lastError})` : ''}, at most ${(maxLag / 1000).toFixed(1)} s behind schedule`);
  return { published: pub.stats.sent, errors: pub.stats.errors, generated: gen.generated, start, end: Number.isFinite(end) ? end : Date.now() - offset, offsetMs: offset, wallMs, setupMs, maxLagMs: maxLag, generator: gen };
}
